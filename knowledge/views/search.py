search_urls: list = []
