"""List endpoints refuse query parameters they do not understand instead of ignoring them."""

import pytest
from rest_framework.test import APIClient

from itsm.choices import Role
from tests.factories import make_ticket, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(make_user(Role.SERVICE_DESK_AGENT))
    return client


def test_an_unknown_parameter_is_a_400_naming_it(api):
    make_ticket()
    response = api.get('/api/v1/incidents/', {'parnet': 'INC0001001', 'state': 'new'})
    assert response.status_code == 400
    body = response.json()
    assert 'parnet' in str(body) and 'Unknown query parameter' in str(body)
    assert 'state' not in body.get('errors', body)  # the known filter is not blamed


def test_known_filters_paging_and_format_are_accepted(api):
    make_ticket()
    response = api.get('/api/v1/incidents/', {'state': 'new', 'page': 1, 'page_size': 10, 'format': 'json'})
    assert response.status_code == 200
    assert response.json()['count'] == 1


def test_filters_declared_on_the_filter_set_are_known(api):
    when = {'opened_after': '2026-01-01T00:00:00Z', 'opened_before': '2030-01-01T00:00:00Z', 'sla_breached': 'false'}
    response = api.get('/api/v1/incidents/', when)
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize('url', ['/api/v1/users/', '/api/v1/groups/', '/api/v1/cis/', '/api/v1/slas/'])
def test_every_list_endpoint_refuses_an_unknown_parameter(api, url):
    assert api.get(url, {'no_such_filter': 'x'}).status_code == 400


def test_a_parents_children_are_listed_by_parent_number(api):
    from incidents import services
    from itsm.audit import Actor

    agent = make_user(Role.SERVICE_DESK_AGENT)
    master, child, _unrelated = make_ticket(), make_ticket(), make_ticket()
    services.ticket_link_parent(ticket=child, actor=Actor(user=agent), parent=master)
    response = api.get('/api/v1/incidents/', {'parent': master.number.lower()})
    assert response.status_code == 200
    assert [row['number'] for row in response.json()['results']] == [child.number]
