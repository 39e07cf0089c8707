major_urls: list = []
