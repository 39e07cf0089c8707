suggestion_urls: list = []
