"""Factories of the inbox: a person's notifications and e-mail preferences."""

import factory
from django.contrib.contenttypes.models import ContentType
from factory.django import DjangoModelFactory

from inbox.choices import topic_of
from inbox.models import EmailPreference, Notification
from itsm.choices import Role
from tests.factories import make_ticket, make_user


class NotificationFactory(DjangoModelFactory):
    """A notification about `record` (a new ticket by default) to `recipient` (an agent by default)."""

    class Meta:
        model = Notification
        exclude = ('record',)

    recipient = factory.LazyFunction(lambda: make_user(Role.SERVICE_DESK_AGENT))
    record = factory.LazyFunction(make_ticket)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.record))
    object_id = factory.LazyAttribute(lambda o: o.record.pk)
    number = factory.LazyAttribute(lambda o: o.record.number)
    event = 'assigned'
    topic = factory.LazyAttribute(lambda o: topic_of(o.event))
    label = 'Assigned to your group'
    text = factory.LazyAttribute(lambda o: o.record.short_description)


class EmailPreferenceFactory(DjangoModelFactory):
    class Meta:
        model = EmailPreference
        django_get_or_create = ('user',)

    user = factory.LazyFunction(lambda: make_user(Role.SERVICE_DESK_AGENT))
