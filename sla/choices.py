"""Clock kinds and states, stop reasons, event kinds and the defaults agreements start from."""

from django.db import models


class ClockKind(models.TextChoices):
    """What a clock measures: the SLA's response (until someone takes the record on) and resolution (until its
    work is finished), and a support group's OLA accept and resolve targets while the record is with that group."""

    RESPONSE = 'response', 'Response'
    RESOLUTION = 'resolution', 'Resolution'
    OLA_ACCEPT = 'ola_accept', 'OLA accept'
    OLA_RESOLVE = 'ola_resolve', 'OLA resolve'


SLA_KINDS = (ClockKind.RESPONSE, ClockKind.RESOLUTION)
OLA_KINDS = (ClockKind.OLA_ACCEPT, ClockKind.OLA_RESOLVE)


class ClockState(models.TextChoices):
    RUNNING = 'running', 'Running'
    PAUSED = 'paused', 'Paused'
    MET = 'met', 'Met'
    BREACHED = 'breached', 'Breached'


class StopReason(models.TextChoices):
    """Why a clock stopped. Only a clock stopped by completion runs again when the caller rejects the fix."""

    ACCEPTED = 'accepted', 'Accepted'
    COMPLETED = 'completed', 'Completed'
    HANDOFF = 'handoff', 'Handed to another group'
    CLOSED = 'closed', 'Closed'


class EventKind(models.TextChoices):
    WARNING = 'warning', 'Warning'
    BREACH = 'breach', 'Breach'


CLOCK_STATE_COLOURS = {
    ClockState.RUNNING: 'green',
    ClockState.PAUSED: 'secondary',
    ClockState.MET: 'teal',
    ClockState.BREACHED: 'red',
}
EVENT_KIND_COLOURS = {EventKind.WARNING: 'orange', EventKind.BREACH: 'red'}

BREACH_PERCENT = 100
DEFAULT_WARNING_PERCENTS = [75, 90]
# The states an agreement may pause in, and those it pauses in by default, come from the records' workflows
# (`sla.records.pausable_states`, `default_pause_states`): a clock stops, rather than pauses, in finished states.

WEEKDAYS = [
    ('mon', 'Monday'),
    ('tue', 'Tuesday'),
    ('wed', 'Wednesday'),
    ('thu', 'Thursday'),
    ('fri', 'Friday'),
    ('sat', 'Saturday'),
    ('sun', 'Sunday'),
]
BUILTIN_24X7 = '24x7'
