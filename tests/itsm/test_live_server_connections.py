"""The live server that browser tests drive gives each request thread its own database connection.

On an in-memory SQLite database Django shares the test's one connection with the server's threads; two requests
answered at once (a page's own refresh and the person's action) then interleave their transactions on it. The test
settings put the SQLite test database in a file so that this cannot happen.
"""

import pytest
from django.db import connections

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_connection_is_shared_with_the_server_threads(live_server):
    assert not any(connection.vendor == 'sqlite' and connection.is_in_memory_db() for connection in connections.all())
    assert live_server.thread.connections_override == {}
