"""Who hears about what on a problem, through the notification kit (`itsm.notify`).

A new problem reaches the problem managers (someone must assess it); the assessment reaches the owner and the
analysing group; a resolution reaches the group, and a reopening the owner and the group. The texts are
`templates/problems/email/<event>.txt`. Linked incidents hear of a resolution through the report-back
(`problems.report_back`), not from here.
"""

from __future__ import annotations

from django.db import models

from itsm import notify
from itsm.models import User

from .actions import MANAGER_ROLES


class Event(models.TextChoices):
    LOGGED = 'logged', 'New problem to assess'
    ASSESSED = 'assessed', 'Problem assessed'
    RESOLVED = 'resolved', 'Problem resolved'
    REOPENED = 'reopened', 'Problem reopened'


AUDIENCES = {
    Event.LOGGED: ['problem_managers'],
    Event.ASSESSED: ['problem_owner', 'group'],
    Event.RESOLVED: ['group'],
    Event.REOPENED: ['problem_owner', 'group'],
}
ON_TRANSITION = {'assess': Event.ASSESSED, 'resolve': Event.RESOLVED, 'reopen': Event.REOPENED}


def owner(problem, **extra) -> list[str]:
    person = problem.owner
    return [person.email] if person is not None and person.is_active and person.email else []


def problem_managers(problem, **extra) -> list[str]:
    people = User.objects.filter(is_active=True, groups__name__in=[str(role) for role in MANAGER_ROLES])
    return sorted({email for email in people.values_list('email', flat=True) if email})


def problem_event(problem, event: str, *, actor=None) -> list[str]:
    """Queue the message for `event` once the surrounding transaction commits."""
    return notify.notify(problem, str(event), AUDIENCES[event], label=Event(event).label, actor=actor)


def on_created(problem, *, actor, notify: bool = True, **kwargs) -> None:
    if notify:
        problem_event(problem, Event.LOGGED, actor=actor.user)


def on_transitioned(problem, *, actor, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action in ON_TRANSITION:
        problem_event(problem, ON_TRANSITION[action], actor=actor.user)
