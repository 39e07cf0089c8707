from django.db import models

from itsm.choices import Impact, Urgency


class SourceKind(models.TextChoices):
    ALERTMANAGER = 'alertmanager', 'Prometheus Alertmanager'
    EVENTS = 'events', 'Events API (PagerDuty Events v2 shape)'


class DedupBy(models.TextChoices):
    """What makes two Alertmanager notifications the same alert (the events API always uses `dedup_key`)."""

    FINGERPRINT = 'fingerprint', 'Alert fingerprint (one incident per alert)'
    GROUP_KEY = 'group_key', 'Group key (one incident per notification group)'


class AlertStatus(models.TextChoices):
    TRIGGERED = 'triggered', 'Triggered'
    ACKNOWLEDGED = 'acknowledged', 'Acknowledged'
    RESOLVED = 'resolved', 'Resolved'


OPEN_STATUSES = (AlertStatus.TRIGGERED, AlertStatus.ACKNOWLEDGED)


class AlertmanagerStatus(models.TextChoices):
    """Status of an Alertmanager notification and of each alert in it."""

    FIRING = 'firing', 'Firing'
    RESOLVED = 'resolved', 'Resolved'


class EventAction(models.TextChoices):
    TRIGGER = 'trigger', 'Trigger'
    ACKNOWLEDGE = 'acknowledge', 'Acknowledge'
    RESOLVE = 'resolve', 'Resolve'


class Severity(models.TextChoices):
    """The events API's severities (PagerDuty's four); Alertmanager's `severity` label is read the same way."""

    CRITICAL = 'critical', 'Critical'
    ERROR = 'error', 'Error'
    WARNING = 'warning', 'Warning'
    INFO = 'info', 'Info'


# severity → impact and urgency: critical P1, error P2, warning P3, info P4 with the default priority matrix.
DEFAULT_SEVERITY_MAP = {
    Severity.CRITICAL.value: {'impact': Impact.HIGH.value, 'urgency': Urgency.CRITICAL.value},
    Severity.ERROR.value: {'impact': Impact.MEDIUM.value, 'urgency': Urgency.URGENT.value},
    Severity.WARNING.value: {'impact': Impact.LOW.value, 'urgency': Urgency.NORMAL.value},
    Severity.INFO.value: {'impact': Impact.NONE.value, 'urgency': Urgency.NEGOTIATED.value},
}
# What a severity the map does not name is read as.
FALLBACK_SEVERITY = Severity.WARNING.value


def default_severity_map() -> dict:
    return {key: dict(value) for key, value in DEFAULT_SEVERITY_MAP.items()}


STATUS_COLOURS = {AlertStatus.TRIGGERED: 'red', AlertStatus.ACKNOWLEDGED: 'yellow', AlertStatus.RESOLVED: 'green'}
