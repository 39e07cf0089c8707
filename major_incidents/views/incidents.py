incident_urls: list = []
