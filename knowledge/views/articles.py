article_urls: list = []
