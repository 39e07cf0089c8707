"""Choices of on-call: how a rotation hands over, whom an escalation level notifies, where a page stands."""

from django.db import models


class Handoff(models.TextChoices):
    DAILY = 'daily', 'Daily'
    WEEKLY = 'weekly', 'Weekly'


class Weekday(models.IntegerChoices):
    MONDAY = 0, 'Monday'
    TUESDAY = 1, 'Tuesday'
    WEDNESDAY = 2, 'Wednesday'
    THURSDAY = 3, 'Thursday'
    FRIDAY = 4, 'Friday'
    SATURDAY = 5, 'Saturday'
    SUNDAY = 6, 'Sunday'


class LevelTarget(models.TextChoices):
    SCHEDULE = 'schedule', 'Who is on call'
    PERSON = 'person', 'A named person'
    MANAGER = 'manager', 'The group manager'


class PageState(models.TextChoices):
    OPEN = 'open', 'Waiting for acknowledgement'
    ACKNOWLEDGED = 'acknowledged', 'Acknowledged'
    ESCALATED = 'escalated', 'Escalated'
    STOPPED = 'stopped', 'Stopped (acknowledged at another level)'


STATE_COLOURS = {
    PageState.OPEN: 'danger',
    PageState.ACKNOWLEDGED: 'success',
    PageState.ESCALATED: 'warning',
    PageState.STOPPED: 'secondary',
}
