version_urls: list = []
