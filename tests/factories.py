"""Factories for test data. Where a service exists, the factory calls it, so test data obeys the same rules."""

import factory
from factory.django import DjangoModelFactory

from itsm import services
from itsm.audit import Actor
from itsm.choices import Role, Tier
from itsm.models import SupportGroup, User

SYSTEM = Actor.system()


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f'person{n}')
    first_name = factory.Faker('first_name')
    last_name = factory.Faker('last_name')
    email = factory.LazyAttribute(lambda o: f'{o.username}@example.com')
    password = 'pitcrew-test-pw'
    roles = (Role.REQUESTER,)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.user_create(actor=SYSTEM, **kwargs)


class SupportGroupFactory(DjangoModelFactory):
    class Meta:
        model = SupportGroup

    name = factory.Sequence(lambda n: f'Support group {n}')
    tier = Tier.L1
    email = factory.LazyAttribute(lambda o: f'{o.name.lower().replace(" ", "-")}@example.com')

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.support_group_create(actor=SYSTEM, **kwargs)


def make_user(*roles: str, **kwargs) -> User:
    """A person holding `roles` (a requester when none are given)."""
    return UserFactory(roles=roles or (Role.REQUESTER,), **kwargs)


# ------------------------------------------------------------------------------------------------ tickets
def make_group_with_agent(name: str = 'Service Desk', tier: str = Tier.L1, role: str = Role.SERVICE_DESK_AGENT):
    """A support group and one member who may accept its tickets."""
    agent = make_user(role)
    group = SupportGroupFactory(name=name, tier=tier, members=[agent])
    return group, agent


def make_ticket(*, kind: str = 'incident', caller=None, state: str = 'new', group=None, agent=None, **fields):
    """A ticket opened and driven to `state` through the services, as people would."""
    from incidents import services as ticket_services
    from incidents.choices import PendingReason, ResolutionCode, TicketState

    caller = caller or make_user(Role.REQUESTER)
    fields.setdefault('short_description', 'Printer on the 2nd floor is jammed')
    ticket = ticket_services.ticket_create(actor=Actor(user=caller, channel='ui'), kind=kind, caller=caller, **fields)
    if state == TicketState.NEW:
        return ticket
    if group is None:
        group, agent = make_group_with_agent(name=f'Group for {ticket.number}')
    desk = Actor(user=agent, channel='ui')
    ticket = ticket_services.ticket_assign(ticket=ticket, actor=desk, group=group)
    if state == TicketState.ASSIGNED:
        return ticket
    ticket = ticket_services.ticket_accept(ticket=ticket, actor=desk)
    if state == TicketState.ACCEPTED:
        return ticket
    if state == TicketState.PENDING:
        return ticket_services.ticket_pend(ticket=ticket, actor=desk, reason=PendingReason.CUSTOMER)
    ticket = ticket_services.ticket_complete(
        ticket=ticket, actor=desk, resolution_code=ResolutionCode.SOLVED_PERMANENTLY, resolution_notes='Cleared it.'
    )
    if state == TicketState.COMPLETED:
        return ticket
    return ticket_services.ticket_confirm(ticket=ticket, actor=Actor(user=caller, channel='ui'))


# ------------------------------------------------------------------------------------------------ routing rules
def make_routing_rule(*, group=None, name: str | None = None, **conditions):
    """A routing rule made through the routing service, sending matching tickets to `group` (a new one if none)."""
    from incidents import routing
    from incidents.models import RoutingRule

    group = group or SupportGroupFactory()
    name = name or f'Rule {RoutingRule.objects.count() + 1}'
    return routing.rule_create(actor=SYSTEM, name=name, assignment_group=group, **conditions)


# ----------------------------------------------------------------------------------------- notification outbox
def make_outbox_message(*, record=None, event: str = 'assigned', status: str = 'pending', **fields):
    """An outbox row as `itsm.notify.notify()` writes it (about a new ticket unless `record` is given)."""
    import uuid

    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from itsm.outbox import OutboxMessage

    record = record or make_ticket()
    now = timezone.now()
    defaults = {
        'label': 'Assigned to your group',
        'recipients': ['desk@example.com'],
        'key': uuid.uuid4().hex,
        'next_attempt_at': now if status == 'pending' else None,
        'sent_at': now if status == 'sent' else None,
        'failed_at': now if status == 'failed' else None,
    }
    return OutboxMessage.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        event=event,
        status=status,
        **{**defaults, **fields},
    )
