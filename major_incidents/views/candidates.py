candidate_urls: list = []
