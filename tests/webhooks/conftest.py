import pytest

from .receiver import Receiver


@pytest.fixture
def receiver():
    """Start a receiver with `receiver(500, 500, 200)`; it is stopped after the test."""
    started = []

    def start(*statuses: int, bodies=()) -> Receiver:
        server = Receiver(list(statuses), list(bodies)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
