"""Factories of inbound e-mail. Mailboxes go through the audited service; log rows are what the poller writes."""

import hashlib

import factory
from factory.django import DjangoModelFactory

from itsm import services
from itsm.audit import Actor
from mailboxes.choices import Outcome, Security
from mailboxes.models import InboundMessage, Mailbox


class MailboxFactory(DjangoModelFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f'Mailbox {n}')
    address = factory.Sequence(lambda n: f'desk{n}@example.org')
    host = 'imap.example.org'
    port = 993
    security = Security.IMAPS
    username = factory.Sequence(lambda n: f'desk{n}')
    password = 'imap-secret'

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.record_create(model=model_class, fields=kwargs, actor=Actor.system())


class InboundMessageFactory(DjangoModelFactory):
    class Meta:
        model = InboundMessage

    mailbox = factory.SubFactory(MailboxFactory)
    message_id = factory.Sequence(lambda n: f'<m{n}@mail.example.com>')
    message_key = factory.LazyAttribute(lambda o: hashlib.sha256(o.message_id.encode()).hexdigest())
    sender = 'ada@example.com'
    subject = 'Printer jammed'
    outcome = Outcome.OPENED
