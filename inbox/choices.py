"""What an in-app notification is about, as a person chooses which of them also reach them by e-mail."""

from django.db import models


class Topic(models.TextChoices):
    ASSIGNMENTS = 'assignments', 'Work assigned to me or my groups'
    REPLIES = 'replies', 'Replies and comments'
    REOPENINGS = 'reopenings', 'Reopened tickets'
    MENTIONS = 'mentions', 'Mentions of me in work notes and comments'
    SLA = 'sla', 'SLA warnings and breaches'
    UPDATES = 'updates', 'Other progress (received, on hold, resolved, closed, escalations)'


# Events of the notification kit (`itsm.notify`) by topic; any other event is an update.
EVENT_TOPICS = {
    'assigned': Topic.ASSIGNMENTS,
    'commented': Topic.REPLIES,
    'customer_replied': Topic.REPLIES,
    'reopened': Topic.REOPENINGS,
    'mention': Topic.MENTIONS,
    'sla_warning': Topic.SLA,
    'sla_breach': Topic.SLA,
    'sla_forecast': Topic.SLA,
}

MENTION_EVENT = 'mention'


def topic_of(event: str) -> str:
    return EVENT_TOPICS.get(event, Topic.UPDATES)
