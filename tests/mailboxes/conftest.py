import pytest

from itsm.audit import Actor
from mailboxes.models import Mailbox

from .dovecot import running_dovecot


@pytest.fixture(scope='session')
def dovecot():
    """A Dovecot IMAP server for the run, plain IMAP and IMAP over TLS (self-signed) on loopback ports."""
    with running_dovecot(tls=True) as server:
        yield server


@pytest.fixture
def imap(dovecot):
    """The test's own IMAP account on that server."""
    return dovecot.account()


def make_mailbox(account, **fields) -> Mailbox:
    from itsm import services

    values = {
        'name': 'Service desk',
        'address': 'desk@example.org',
        'host': '127.0.0.1',
        'port': account.port,
        'security': 'plain',
        'username': account.username,
        'password': account.password,
        **fields,
    }
    return services.record_create(model=Mailbox, fields=values, actor=Actor.system())


@pytest.fixture
def mailbox(db, imap):
    return make_mailbox(imap)
