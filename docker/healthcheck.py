"""Container health check of the web service: exit 0 when `/health/` answers 200, 1 otherwise.

The request goes to gunicorn on loopback, so it carries what a request through the reverse proxy would: a Host
from ALLOWED_HOSTS and `X-Forwarded-Proto: https` (honoured when BEHIND_PROXY is on), otherwise Django would
refuse the host or redirect to HTTPS. Redirects are not followed: only a 200 is healthy.
"""

import http.client
import os
import sys


def host_header() -> str:
    for host in os.environ.get('ALLOWED_HOSTS', '').split(','):
        host = host.strip().lstrip('.')
        if host and host != '*':
            return host
    return 'localhost'


def main() -> int:
    port = int(os.environ.get('PORT', '8000'))
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    try:
        connection.request('GET', '/health/', headers={'Host': host_header(), 'X-Forwarded-Proto': 'https'})
        response = connection.getresponse()
        body = response.read(2000).decode(errors='replace')
    except OSError as exc:
        print(f'unhealthy: {exc}', file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f'unhealthy: HTTP {response.status} {body}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
