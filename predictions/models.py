"""Duration profiles of completed tickets and the resolution time predicted for each open ticket.

Both are written by the system only (`predictions.services`): profiles are rebuilt as a whole from the completed
tickets of a recent window, and each open ticket has at most one prediction, replaced as the ticket changes and
removed when it completes.
"""

from django.db import models

from itsm.choices import Priority, TicketKind

from .choices import ProfileLevel


class DurationProfile(models.Model):
    """How long completed tickets sharing a key took (opened → completed): sample size and quantiles.

    The key is the kind plus the similarity keys of its level; keys the level drops are empty. An empty category,
    service, group or channel at a level that keeps it is a value of its own (tickets without one)."""

    level = models.CharField(max_length=10, choices=ProfileLevel.choices)
    kind = models.CharField(max_length=10, choices=TicketKind.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    category = models.ForeignKey(
        'incidents.Category', null=True, blank=True, on_delete=models.CASCADE, related_name='+'
    )
    service = models.ForeignKey(
        'cmdb.ConfigurationItem', null=True, blank=True, on_delete=models.CASCADE, related_name='+'
    )
    assignment_group = models.ForeignKey(
        'itsm.SupportGroup', null=True, blank=True, on_delete=models.CASCADE, related_name='+'
    )
    channel = models.CharField(max_length=12, blank=True)
    samples = models.PositiveIntegerField()
    p10 = models.DurationField()
    p50 = models.DurationField()
    p90 = models.DurationField()
    # Seconds at 0 %, 5 %, … 100 % (predictions.estimate.GRID): conditional quantiles are read off it.
    grid = models.JSONField(default=list)
    built_at = models.DateTimeField()

    class Meta:
        ordering = ['kind', 'priority', 'level', 'id']
        indexes = [
            models.Index(fields=['kind', 'priority', 'level'], name='predictions_profile_key'),
            models.Index(fields=['level'], name='predictions_profile_level'),
        ]

    def __str__(self) -> str:
        return f'{self.get_level_display()} profile ({self.samples} tickets)'


class Prediction(models.Model):
    """The predicted resolution of one open ticket: expected instant and 80 % band, and what they rest on."""

    ticket = models.OneToOneField('incidents.Ticket', on_delete=models.CASCADE, related_name='prediction')
    expected_at = models.DateTimeField()
    low_at = models.DateTimeField(help_text='10 % of similar tickets were resolved by then.')
    high_at = models.DateTimeField(help_text='90 % of similar tickets were resolved by then.')
    typical = models.DurationField(help_text='How long similar tickets usually take (their median).')
    level = models.CharField(max_length=10, choices=ProfileLevel.choices)
    samples = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ['expected_at']

    def __str__(self) -> str:
        return f'Prediction for ticket {self.ticket_id}'
