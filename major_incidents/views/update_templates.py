template_urls: list = []
