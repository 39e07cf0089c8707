"""A small desk with hand-timed tickets whose every measure is known, built through the real services.

All times are UTC (the test settings' TIME_ZONE). P3 incidents have an SLA of 1 h response and 8 h resolution
on the 24x7 calendar, pausing while Pending; the Service Desk group has an OLA of 30 min accept and 4 h
resolve. Network has no OLA.

    T1  opened 2 Mar 09:00, assigned Desk 09:00, accepted 09:25, completed 11:00, closed 3 Mar 09:00
    T2  opened 2 Mar 10:00, assigned 10:05, accepted 10:20, Pending 11:00–19:00, completed 20:00
    T3  opened 2 Mar 23:00, assigned Desk 23:10, escalated to Network 3 Mar 01:00, accepted 02:00,
        completed 05:00 (crosses midnight; response 3 h late; Desk's accept OLA breached)
    T4  opened 3 Mar 08:00, assigned 08:05, accepted 08:15, completed 09:00, reopened 4 Mar 10:00,
        completed again 11:00
    T5  opened 4 Mar 12:00, assigned 12:10, accepted 12:30, still open
    T6  opened 5 Mar 09:00, still New

The SLA sweep then runs on 20 Mar 12:00 (NOW), breaching the open tickets' clocks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from incidents import services as tickets
from incidents.choices import PendingReason, ResolutionCode
from itsm.audit import Actor
from itsm.choices import Role, Tier
from sla import services as sla_services
from sla.models import BusinessCalendar
from tests.factories import SupportGroupFactory, make_user
from tests.sla.factories import frozen

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = dt.date(2026, 3, 2), dt.date(2026, 3, 5)
SYSTEM = Actor.system()


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Desk:
    desk: object
    network: object
    alice: object
    bob: object
    caller: object
    sla: object
    ola: object
    t1: object = None
    t2: object = None
    t3: object = None
    t4: object = None
    t5: object = None
    t6: object = None


def _complete(ticket, actor):
    return tickets.ticket_complete(
        ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_PERMANENTLY, resolution_notes='Fixed.'
    )


def build_desk() -> Desk:
    """Set up groups, agreements and the six tickets, driving the clock through every step."""
    alice = make_user(Role.SERVICE_DESK_AGENT, username='alice', first_name='Alice', last_name='Agent')
    bob = make_user(Role.L2_ENGINEER, username='bob', first_name='Bob', last_name='Engineer')
    caller = make_user(username='carol', first_name='Carol', last_name='Caller')
    network = SupportGroupFactory(name='Network', tier=Tier.L2, members=[bob])
    desk = SupportGroupFactory(name='Service Desk', tier=Tier.L1, members=[alice], escalation_group=network)
    always = BusinessCalendar.objects.builtin_24x7()
    sla = sla_services.sla_create(
        actor=SYSTEM,
        name='P3 incidents',
        ticket_kind='incident',
        priority=3,
        response_minutes=60,
        resolution_minutes=480,
        calendar=always,
    )
    ola = sla_services.ola_create(
        actor=SYSTEM,
        name='Desk OLA',
        support_group=desk,
        priority=None,
        accept_minutes=30,
        resolve_minutes=240,
        calendar=always,
    )
    world = Desk(desk=desk, network=network, alice=alice, bob=bob, caller=caller, sla=sla, ola=ola)
    a, b, c = Actor(user=alice), Actor(user=bob), Actor(user=caller)

    def open_(when, text):
        clock.set(when)
        return tickets.ticket_create(actor=c, caller=caller, short_description=text, notify=False)

    with frozen(at(2, 9)) as clock:
        t1 = open_(at(2, 9), 'T1 printer')
        t1 = tickets.ticket_assign(ticket=t1, actor=a, group=desk, notify=False)
        clock.set(at(2, 9, 25))
        t1 = tickets.ticket_accept(ticket=t1, actor=a)
        clock.set(at(2, 11))
        t1 = _complete(t1, a)

        t2 = open_(at(2, 10), 'T2 mailbox')
        clock.set(at(2, 10, 5))
        t2 = tickets.ticket_assign(ticket=t2, actor=a, group=desk, notify=False)
        clock.set(at(2, 10, 20))
        t2 = tickets.ticket_accept(ticket=t2, actor=a)
        clock.set(at(2, 11))
        t2 = tickets.ticket_pend(ticket=t2, actor=a, reason=PendingReason.CUSTOMER)
        clock.set(at(2, 19))
        t2 = tickets.ticket_resume(ticket=t2, actor=a)
        clock.set(at(2, 20))
        t2 = _complete(t2, a)

        t3 = open_(at(2, 23), 'T3 VPN down')
        clock.set(at(2, 23, 10))
        t3 = tickets.ticket_assign(ticket=t3, actor=a, group=desk, notify=False)
        clock.set(at(3, 1))
        t3 = tickets.ticket_escalate(ticket=t3, actor=a, reason='Needs the network team', group=network)
        clock.set(at(3, 2))
        t3 = tickets.ticket_accept(ticket=t3, actor=b)
        clock.set(at(3, 5))
        t3 = _complete(t3, b)

        t4 = open_(at(3, 8), 'T4 laptop')
        clock.set(at(3, 8, 5))
        t4 = tickets.ticket_assign(ticket=t4, actor=a, group=desk, notify=False)
        clock.set(at(3, 8, 15))
        t4 = tickets.ticket_accept(ticket=t4, actor=a)
        clock.set(at(3, 9))
        t4 = _complete(t4, a)
        clock.set(at(3, 9))
        t1 = tickets.ticket_confirm(ticket=t1, actor=c)
        clock.set(at(4, 10))
        t4 = tickets.ticket_reject(ticket=t4, actor=c, reason='Still broken')
        clock.set(at(4, 11))
        t4 = _complete(t4, a)

        t5 = open_(at(4, 12), 'T5 share')
        clock.set(at(4, 12, 10))
        t5 = tickets.ticket_assign(ticket=t5, actor=a, group=desk, notify=False)
        clock.set(at(4, 12, 30))
        t5 = tickets.ticket_accept(ticket=t5, actor=a)

        t6 = open_(at(5, 9), 'T6 new')

        clock.set(NOW)
        sla_services.sla_sweep(now=NOW)
    world.t1, world.t2, world.t3, world.t4, world.t5, world.t6 = t1, t2, t3, t4, t5, t6
    return world


# The answers, worked out by hand from the timeline above (hours).
EXPECTED = {
    'mttr': {'count': 4, 'mean_hours': 11.25, 'median_hours': 8.0, 'p90_hours': 21.9},
    'mttr_series': [(2, 6.0, 6.0, 9.2), (1, 6.0, 6.0, 6.0), (1, 27.0, 27.0, 27.0), (0, None, None, None)],
    # MTTA: 25 min, 20 min, 3 h, 15 min, 30 min.
    'mtta': {'count': 5, 'mean_hours': 0.9, 'median_hours': 0.42, 'p90_hours': 2.0},
    'fcr': {'completed': 4, 'first_time': 2, 'percent': 50.0},
    'reopen_rate': {'completed': 4, 'reopened': 1, 'percent': 25.0},
    'reassignment_rate': {'completed': 4, 'reassigned': 1, 'reassignments': 1, 'percent': 25.0, 'per_ticket': 0.25},
    'volume': {'opened': 6, 'completed': 4},
    'volume_series': [(3, 2), (1, 1), (1, 1), (1, 0)],
    'sla_response': {'met': 4, 'breached': 2, 'total': 6, 'percent': 66.7},
    'sla_resolution': {'met': 4, 'breached': 2, 'total': 6, 'percent': 66.7},
    'sla_series': [(4, 0), (2, 1), (2, 1), (0, 2)],  # (met, breached) per day, response and resolution together
    'ola': {'met': 7, 'breached': 2, 'total': 9, 'percent': 77.8},
    'answer_rate': {'answered_in_target': 4, 'answered_late': 2, 'decided': 6, 'percent': 66.7},
    'answer_series': [66.7, 100.0, 100.0, 0.0],
    'backlog': 2,
    'backlog_series': [1, 1, 1, 2],
}
