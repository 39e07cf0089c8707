"""Demo hypercare: a rule (two weeks after a normal change), E-mail services in hypercare since its migration six
days ago with tighter hypercare SLAs and a few tagged incidents, and VPN's finished period from last month.

Idempotent: nothing is added while a demo period exists. Needs the core people and groups, the CMDB services and
the demo SLAs.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cmdb.models import ConfigurationItem
from incidents import services as ticket_services
from incidents.models import Ticket
from itsm import audit
from itsm.audit import Actor
from itsm.choices import Channel, TicketKind
from itsm.models import User
from itsm.services import record_create
from sla import services as sla_services
from sla.models import BusinessCalendar, ServiceLevelAgreement

from . import services
from .models import HypercarePeriod, HypercareRule

ACTIVE_SERVICE, FINISHED_SERVICE = 'E-mail services', 'VPN'
RULE_NAME = 'Two weeks after a normal change'
# Tighter targets while E-mail services is in hypercare: (priority, response minutes, resolution minutes), 24x7.
HYPERCARE_SLAS = [(1, 15, 4 * 60), (2, 30, 6 * 60), (3, 60, 8 * 60)]
# Incidents opened during the period: (days into it, hours to resolve or None while open, text, impact, urgency).
INCIDENTS = [
    (0.2, 3, 'Outlook asks for the password again after the migration', 'medium', 'normal'),
    (0.6, 5, 'Shared mailbox of Finance missing in Outlook', 'medium', 'urgent'),
    (1.4, None, 'Calendar invitations from external partners arrive late', 'medium', 'normal'),
    (3.1, 2, 'Mobile mail app cannot sync after the cut-over', 'low', 'urgent'),
    (5.2, None, 'Webmail signature lost after the migration', 'low', 'normal'),
]


def load(log=print) -> None:
    if HypercarePeriod.objects.exists():
        return
    admin = User.objects.filter(username='admin').first()
    owner = User.objects.filter(username='service.owner').first()
    caller = User.objects.filter(username='requester').first() or User.objects.filter(is_superuser=False).first()
    mail = ConfigurationItem.objects.services().filter(name=ACTIVE_SERVICE).first()
    vpn = ConfigurationItem.objects.services().filter(name=FINISHED_SERVICE).first()
    if admin is None or owner is None or caller is None or mail is None or vpn is None:
        log('hypercare: the core demo people or the demo services are missing, nothing loaded')
        return
    with transaction.atomic():
        system, by_hand = Actor.system(), Actor(user=admin, channel=Channel.UI)
        if not HypercareRule.objects.filter(name=RULE_NAME).exists():
            record_create(
                model=HypercareRule,
                fields={'name': RULE_NAME, 'change_type': 'normal', 'duration_days': 14},
                actor=by_hand,
            )
        always = BusinessCalendar.objects.builtin_24x7()
        for priority, response, resolution in HYPERCARE_SLAS:
            name = f'{ACTIVE_SERVICE} P{priority} incidents (hypercare)'
            if not ServiceLevelAgreement.objects.filter(name=name).exists():
                sla_services.sla_create(
                    actor=system,
                    name=name,
                    ticket_kind='incident',
                    priority=priority,
                    service=mail,
                    hypercare=True,
                    response_minutes=response,
                    resolution_minutes=resolution,
                    calendar=always,
                )
        now = timezone.now()
        if mail.owner_id is None:
            ConfigurationItem.objects.filter(pk=mail.pk).update(owner=owner)
            mail.owner = owner
        start = now - dt.timedelta(days=6)
        period = services.period_start(
            actor=Actor(user=owner, channel=Channel.UI),
            service=mail,
            starts_at=start,
            ends_at=start + dt.timedelta(days=21),
            reason='Migration of the mail platform to the new cluster.',
        )
        for days, hours, text, impact, urgency in INCIDENTS:
            opened_at = start + dt.timedelta(days=days)
            ticket = ticket_services.ticket_create(
                actor=system,
                kind=TicketKind.INCIDENT,
                short_description=text,
                description=f'{text}.',
                caller=caller,
                impact=impact,
                urgency=urgency,
                service=mail,
                opened_at=opened_at,
                notify=False,
                route=False,
            )
            if hours is not None:
                from incidents.demo import _walk

                _walk(ticket, 'completed', 'Service Desk', 0)
                Ticket.objects.filter(pk=ticket.pk).update(completed_at=opened_at + dt.timedelta(hours=hours))
        finished = HypercarePeriod.objects.create(
            service=vpn,
            starts_at=now - dt.timedelta(days=45),
            ends_at=now - dt.timedelta(days=31),
            reason='New VPN concentrators in both data centres.',
            started_by=admin,
            began_at=now - dt.timedelta(days=45),
            ended_at=now - dt.timedelta(days=31),
            end_reason='Its time was up.',
        )
        audit.record_created(finished, actor=by_hand)
    log(f'hypercare: {ACTIVE_SERVICE} in hypercare ({period.tagged.count()} incidents tagged), {FINISHED_SERVICE} done')
