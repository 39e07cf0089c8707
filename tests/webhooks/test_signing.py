"""The signature: computed as documented, refused when tampered with, old or malformed, and the README's
verification code run as is against a real delivery."""

import hmac
import re
import time
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from itsm.audit import Actor
from webhooks import services, signing

from .factories import make_subscription

README = Path(__file__).resolve().parents[2] / 'README.md'


def readme_verifier():
    """The Python block of README.md's "Outbound webhooks" section, executed as a receiver would paste it."""
    section = README.read_text().split('### Outbound webhooks', 1)[1].split('\n### ', 1)[0]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, 'README.md', 'exec'), namespace)  # noqa: S102 - our own documentation
    return namespace['verify_pitcrew_signature']


def test_signature_is_hmac_sha256_of_timestamp_and_body():
    header = signing.signature('whsec_test', b'{"a":1}', 1700000000)
    expected = hmac.new(b'whsec_test', b'1700000000.{"a":1}', 'sha256').hexdigest()
    assert header == f't=1700000000,v1={expected}'
    assert signing.verify('whsec_test', b'{"a":1}', header, now=1700000000 + 299)


@pytest.mark.parametrize(
    'body, header_secret, age, header',
    [
        (b'{"a":2}', 'whsec_test', 0, None),  # body changed
        (b'{"a":1}', 'whsec_other', 0, None),  # another secret
        (b'{"a":1}', 'whsec_test', 301, None),  # too old: a replay
        (b'{"a":1}', 'whsec_test', -301, None),  # from the future
        (b'{"a":1}', 'whsec_test', 0, 'v1=abc'),  # no timestamp
        (b'{"a":1}', 'whsec_test', 0, 't=soon,v1=abc'),  # not a number
        (b'{"a":1}', 'whsec_test', 0, ''),
    ],
)
def test_verification_refuses(body, header_secret, age, header):
    now = int(time.time())
    header = header if header is not None else signing.signature(header_secret, b'{"a":1}', now - age)
    assert not signing.verify('whsec_test', body, header, now=now)
    assert not readme_verifier()('whsec_test', body, header)


@pytest.mark.django_db
def test_the_readme_verification_accepts_a_real_delivery(receiver, django_capture_on_commit_callbacks):
    server = receiver(200)
    subscription = make_subscription(url=server.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    received = server.requests[0]
    verify = readme_verifier()
    header = received.headers['Pitcrew-Signature']
    assert verify(subscription.secret, received.body, header)
    assert not verify(subscription.secret, received.body + b' ', header)
    assert not verify('whsec_wrong', received.body, header)
    # Replayed six minutes later, the same request is refused.
    stamp = int(header.split(',')[0][2:])
    assert abs(stamp - timezone.now().timestamp()) < 60
    later = time.time() + 360
    with mock.patch('time.time', return_value=later):
        assert not verify(subscription.secret, received.body, header)
