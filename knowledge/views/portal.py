portal_urls: list = []
