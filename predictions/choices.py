from django.db import models


class ProfileLevel(models.TextChoices):
    """How specific a duration profile is: which similarity keys it keeps (predictions.estimate.LEVELS)."""

    CHANNEL = 'channel', 'Priority, category, service, group and channel'
    GROUP = 'group', 'Priority, category, service and group'
    SERVICE = 'service', 'Priority, category and service'
    CATEGORY = 'category', 'Priority and category'
    PRIORITY = 'priority', 'Priority'
    ALL = 'all', 'All tickets of the kind'
