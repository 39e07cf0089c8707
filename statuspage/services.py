"""Status-page subscriptions: double opt-in, one-click unsubscribe, and the e-mail of each public update.

The public form never says whether an address was already known: `subscribe` answers the same way for a new, an
unconfirmed and a confirmed address, and sends at most one message per address every RESEND_MINUTES.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cmdb.models import ConfigurationItem
from itsm import audit
from itsm.audit import Actor
from itsm.notify import site_url
from major_incidents.choices import UpdateAudience
from major_incidents.models import MajorIncidentUpdate

from . import selectors
from .models import Subscriber, new_token

RESEND_MINUTES = 10
# Remembered per update and subscriber so a task run twice (a retried worker) never sends the same e-mail twice.
SENT_KEY = 'statuspage:sent:{update}:{posted}:{token}'
SENT_TTL = 7 * 24 * 3600


def confirm_url(subscriber: Subscriber) -> str:
    return site_url(reverse('statuspage:confirm', args=[subscriber.token]))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return site_url(reverse('statuspage:unsubscribe', args=[subscriber.token]))


def _unsubscribe_headers(subscriber: Subscriber) -> dict[str, str]:
    # RFC 8058: mail clients offer a one-click unsubscribe that POSTs `List-Unsubscribe=One-Click` to the URL.
    return {
        'List-Unsubscribe': f'<{unsubscribe_url(subscriber)}>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    }


@transaction.atomic
def subscribe(*, email: str, services: Iterable[ConfigurationItem] = (), actor: Actor | None = None) -> Subscriber:
    """Create or refresh the address's subscription and e-mail it: a confirmation link while unconfirmed, a note
    with the unsubscribe link once confirmed (its services then change only by a new confirmation)."""
    actor = actor or Actor.system()
    email = email.strip().lower()
    subscriber, created = Subscriber.objects.select_for_update().get_or_create(email=email)
    now = timezone.now()
    if subscriber.unsubscribed_at is not None:
        # Back after leaving: confirm again, with a new token (the old unsubscribe links stay dead).
        subscriber.unsubscribed_at = None
        subscriber.confirmed_at = None
        subscriber.token = new_token()
    confirmed = subscriber.confirmed_at is not None
    if not confirmed:
        subscriber.services.set([s for s in services if s.ci_class == 'service'])
    recently = subscriber.confirmation_sent_at and now - subscriber.confirmation_sent_at < dt.timedelta(
        minutes=RESEND_MINUTES
    )
    if not recently:
        subscriber.confirmation_sent_at = now
        transaction.on_commit(lambda: _send_subscription_mail(subscriber.pk))
    subscriber.save()
    if created:
        audit.record_created(subscriber, actor=actor, public=False)
    return subscriber


def _send_subscription_mail(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.prefetch_related('services').get(pk=subscriber_id)
    context = {
        'subscriber': subscriber,
        'confirm_url': confirm_url(subscriber),
        'unsubscribe_url': unsubscribe_url(subscriber),
        'status_url': site_url(reverse('statuspage:index')),
        'page_title': settings.STATUS_PAGE_TITLE,
        'services': [selectors.public_name(ci.service_details) for ci in subscriber.services.all()],
    }
    if subscriber.confirmed_at is None:
        subject = f'{settings.STATUS_PAGE_TITLE}: confirm your subscription'
        body = render_to_string('statuspage/email/confirm.txt', context)
    else:
        subject = f'{settings.STATUS_PAGE_TITLE}: you are already subscribed'
        body = render_to_string('statuspage/email/already_subscribed.txt', context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[subscriber.email])
    message.extra_headers.update(_unsubscribe_headers(subscriber))
    message.send()


@transaction.atomic
def confirm(*, subscriber: Subscriber, actor: Actor | None = None) -> Subscriber:
    """The address proved it is read: public updates reach it from now on. Confirming twice changes nothing."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.confirmed_at is None or subscriber.unsubscribed_at is not None:
        before = audit.snapshot(subscriber)
        subscriber.confirmed_at = timezone.now()
        subscriber.unsubscribed_at = None
        subscriber.save(update_fields=['confirmed_at', 'unsubscribed_at'])
        audit.record_changes(subscriber, before, actor=actor or Actor.system(), message='Subscription confirmed.')
    return subscriber


@transaction.atomic
def unsubscribe(*, subscriber: Subscriber, actor: Actor | None = None) -> Subscriber:
    """No more e-mail to the address. Unsubscribing twice changes nothing."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.unsubscribed_at is None:
        before = audit.snapshot(subscriber)
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=['unsubscribed_at'])
        audit.record_changes(subscriber, before, actor=actor or Actor.system(), message='Unsubscribed.')
    return subscriber


def update_message(update: MajorIncidentUpdate, subscriber: Subscriber) -> EmailMultiAlternatives:
    major = update.major_incident
    incident_url = site_url(reverse('statuspage:incident', args=[major.number]))
    context = {
        'update': update,
        'major': major,
        'incident_url': incident_url,
        'unsubscribe_url': unsubscribe_url(subscriber),
        'page_title': settings.STATUS_PAGE_TITLE,
    }
    subject = f'[{settings.STATUS_PAGE_TITLE}] {major.title}: {update.get_status_display()}'
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string('statuspage/email/update.txt', context), to=[subscriber.email]
    )
    message.extra_headers.update(_unsubscribe_headers(subscriber))
    return message


def send_update(*, update_id: int) -> int:
    """E-mail a public update to each confirmed subscriber of its services (or of every service), once each.
    Returns how many e-mails were sent."""
    update = (
        MajorIncidentUpdate.objects.select_related('major_incident')
        .prefetch_related('major_incident__services', 'major_incident__cis')
        .filter(pk=update_id, audience=UpdateAudience.PUBLIC)
        .first()
    )
    if update is None:
        return 0
    messages = []
    for subscriber in selectors.subscribers_for_update(update):
        key = SENT_KEY.format(update=update.pk, posted=update.posted_at.timestamp(), token=subscriber.token)
        if cache.add(key, 1, SENT_TTL):
            messages.append(update_message(update, subscriber))
    if messages:
        with get_connection() as connection:
            connection.send_messages(messages)
    return len(messages)


def on_update_posted(update: MajorIncidentUpdate) -> None:
    """Listener for posted updates: a public one is e-mailed to subscribers once the posting commits."""
    if update.audience != UpdateAudience.PUBLIC:
        return
    from .tasks import send_update_task

    transaction.on_commit(lambda: send_update_task.delay(update.pk))
