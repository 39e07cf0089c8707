dashboard_urls: list = []
