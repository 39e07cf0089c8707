"""Where a hypercare period stands, read from its times (never stored)."""

from django.db import models


class PeriodState(models.TextChoices):
    SCHEDULED = 'scheduled', 'Scheduled'
    ACTIVE = 'active', 'Active'
    ENDED = 'ended', 'Ended'


STATE_COLORS = {PeriodState.SCHEDULED: 'blue', PeriodState.ACTIVE: 'orange', PeriodState.ENDED: 'secondary'}

# Change outcomes after which a rule puts the change's services into hypercare.
SUCCESSFUL_OUTCOMES = ('successful', 'successful_with_issues')
