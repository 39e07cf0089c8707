review_urls: list = []
