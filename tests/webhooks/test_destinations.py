"""Destinations: loopback, private, link-local, metadata, IPv6 and IPv4-mapped forms and local names are refused at
save time (400 naming the reason) unless an administrator allows them; only http(s); https-only by setting."""

import pytest
from django.core.exceptions import ValidationError

from itsm.audit import Actor
from itsm.choices import Role
from tests.factories import make_user
from webhooks import destinations, services

from .factories import PUBLIC_URL

pytestmark = pytest.mark.django_db

REFUSED = [
    ('http://127.0.0.1/hook', 'loopback'),
    ('http://127.1.2.3:8080/hook', 'loopback'),
    ('http://localhost:8000/hook', 'loopback'),
    ('http://10.0.0.5/hook', 'private'),
    ('https://192.168.1.10/hook', 'private'),
    ('https://172.16.0.1/hook', 'private'),
    ('http://169.254.169.254/latest/meta-data/', 'link-local'),
    ('http://[::1]/hook', 'loopback'),
    ('http://[fe80::1]/hook', 'link-local'),
    ('http://[fd00::1]/hook', 'private'),
    ('http://[::ffff:127.0.0.1]/hook', 'loopback'),
    ('http://[::ffff:10.0.0.1]/hook', 'private'),
    ('http://0.0.0.0/hook', 'unspecified'),
    ('http://224.0.0.1/hook', 'multicast'),
    ('http://100.64.0.1/hook', 'not a public address'),
]


@pytest.mark.parametrize('url, reason', REFUSED)
def test_private_destinations_are_refused(url, reason):
    owner = make_user(Role.INTEGRATION)
    with pytest.raises(ValidationError) as refused:
        services.subscription_create(actor=Actor(user=owner), name='x', url=url, events=['record.created'])
    message = refused.value.message_dict['url'][0]
    assert reason in message and 'Only an administrator may allow private destinations' in message


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(destinations, 'resolve_host', lambda host, port: ['93.184.215.14', '10.9.8.7'])
    with pytest.raises(
        destinations.DestinationRefused, match='hooks.example.org is not allowed: 10.9.8.7 is a private'
    ):
        destinations.check('https://hooks.example.org/x', allow_private=False)


def test_an_unresolvable_host_is_refused():
    with pytest.raises(destinations.DestinationRefused, match='could not be resolved'):
        destinations.check('https://no-such-host.invalid/x', allow_private=False)


@pytest.mark.parametrize(
    'url, message',
    [
        ('ftp://93.184.215.14/x', 'Only http:// and https://'),
        ('https://user:pw@93.184.215.14/x', 'no user name or password'),
        ('https:///x', 'no host'),
        ('http://93.184.215.14:99999/x', 'not valid'),
    ],
)
def test_other_bad_urls(url, message):
    with pytest.raises(destinations.DestinationRefused, match=message):
        destinations.check(url, allow_private=True)


def test_https_only_setting(settings):
    settings.WEBHOOK_HTTPS_ONLY = True
    with pytest.raises(destinations.DestinationRefused, match='only sends webhooks to https'):
        destinations.check('http://93.184.215.14/x', allow_private=False)
    assert destinations.check(PUBLIC_URL, allow_private=False).addresses == ('93.184.215.14',)


def test_an_administrator_may_allow_private_destinations():
    admin = make_user(Role.ADMINISTRATOR)
    owner = make_user(Role.INTEGRATION)
    subscription = services.subscription_create(
        actor=Actor(user=admin),
        owner=owner,
        name='Local',
        url='http://127.0.0.1:9000/x',
        events=['record.created'],
        allow_private_destination=True,
    )
    assert subscription.owner == owner and subscription.allow_private_destination
    # The owner may rename it, keeping the allowance an administrator gave.
    services.subscription_update(subscription=subscription, actor=Actor(user=owner), name='Local bridge')
    # But may not give it to another subscription of theirs.
    other = services.subscription_create(
        actor=Actor(user=owner), name='Public', url=PUBLIC_URL, events=['record.created']
    )
    with pytest.raises(ValidationError, match='Only an administrator'):
        services.subscription_update(subscription=other, actor=Actor(user=owner), allow_private_destination=True)


def test_the_public_address_check():
    assert destinations.refusal('93.184.215.14') == ''
    assert destinations.refusal('2606:4700:4700::1111') == ''
    assert 'loopback' in destinations.refusal('::ffff:127.0.0.1')
