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


ID_FILTERS = [
    ('/api/v1/webhook-deliveries/', 'subscription'),
    ('/api/v1/oncall-layers/', 'schedule'),
    ('/api/v1/oncall-overrides/', 'person'),
    ('/api/v1/cab-votes/', 'meeting'),
    ('/api/v1/sla-pauses/', 'clock'),
    ('/api/v1/reports/', 'schedule'),
    ('/api/v1/risk-question-answers/', 'question'),
]


@pytest.mark.parametrize(('url', 'name'), ID_FILTERS)
@pytest.mark.parametrize('value', ['-3.1464570685991143e+86', '1e30', '9223372036854775808', '1.5'])
def test_an_id_filter_refuses_a_value_no_record_can_have_with_a_400_naming_it(url, name, value):
    client = APIClient()
    client.force_authenticate(make_user(Role.ADMINISTRATOR))
    response = client.get(url, {name: value})
    assert response.status_code == 400, response.content
    assert name in response.json()


@pytest.mark.parametrize(('url', 'name'), ID_FILTERS)
def test_an_id_filter_still_filters_by_a_whole_number(url, name):
    client = APIClient()
    client.force_authenticate(make_user(Role.ADMINISTRATOR))
    response = client.get(url, {name: '9223372036854775807'})
    assert response.status_code == 200, response.content
    assert response.json()['count'] == 0


DATETIME_FILTERS = [
    ('/api/v1/incidents/', 'opened_after'),
    ('/api/v1/problems/', 'opened_after'),
    ('/api/v1/major-incidents/', 'declared_before'),
    ('/api/v1/oncall-overrides/', 'ends_after'),
    ('/api/v1/reports/', 'generated_before'),
    ('/api/v1/freeze-windows/', 'after'),
]


@pytest.mark.parametrize(('url', 'name'), DATETIME_FILTERS)
@pytest.mark.parametrize('value', ['3255-08-18T23:15:24.2+23:07', '0233-08-02T15:46:10.1-17:53'])
def test_a_date_filter_takes_any_offset_the_parser_reads(url, name, value):
    client = APIClient()
    client.force_authenticate(make_user(Role.ADMINISTRATOR))
    response = client.get(url, {name: value})
    assert response.status_code == 200, response.content


def test_a_date_filter_compares_the_instant_whatever_its_offset(api):
    import datetime as dt

    ticket = make_ticket()
    far_east = dt.timezone(dt.timedelta(hours=23, minutes=30))
    just_before = (ticket.opened_at - dt.timedelta(seconds=1)).astimezone(far_east).isoformat()
    just_after = (ticket.opened_at + dt.timedelta(seconds=1)).astimezone(far_east).isoformat()
    found = api.get('/api/v1/incidents/', {'opened_after': just_before}).json()['results']
    assert [row['number'] for row in found] == [ticket.number]
    assert api.get('/api/v1/incidents/', {'opened_after': just_after}).json()['count'] == 0
