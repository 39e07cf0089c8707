"""What the console shows: a refused request is one line, a server error keeps its traceback, nothing twice."""

import copy
import io
import logging

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils.log import configure_logging

from itsm.choices import Role
from tests.factories import make_user


@pytest.fixture
def console():
    """The project's logging configuration, its console handler writing to a buffer the test reads."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config['handlers']['console']['stream'] = stream
    config['root']['level'] = 'INFO'
    configure_logging(settings.LOGGING_CONFIG, config)
    yield stream
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_forbidden_page_is_one_line_without_traceback(client, console):
    client.force_login(make_user(Role.REQUESTER))
    assert client.get('/people/').status_code == 403
    err = console.getvalue()
    assert err.count('Forbidden (Permission denied): /people/') == 1
    assert 'Traceback' not in err
    # Django's own console handler is gone, so a request log is never printed a second time.
    assert logging.getLogger('django').handlers == []


def test_a_server_error_keeps_its_traceback(console):
    try:
        raise RuntimeError('boom')
    except RuntimeError:
        logging.getLogger('django.request').error(
            'Internal Server Error: /x/', exc_info=True, extra={'status_code': 500}
        )
    err = console.getvalue()
    assert err.count('Internal Server Error: /x/') == 1
    assert 'Traceback' in err and 'RuntimeError: boom' in err


def test_the_broker_connection_needs_no_default_hostname(caplog):
    from itsm.celery import app

    with caplog.at_level(logging.WARNING, logger='kombu'):
        info = app.connection_for_write().info()
    assert info['hostname']
    assert 'No hostname was supplied' not in caplog.text
