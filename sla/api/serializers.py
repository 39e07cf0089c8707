"""API shapes of calendars, agreements and clocks. They validate input; `sla.services` writes."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from cmdb.models import ConfigurationItem
from itsm.api.field_templates import FieldsBuiltOnceMixin
from itsm.choices import Priority
from itsm.models import SupportGroup

from .. import records
from ..models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
)
from ..selectors import record_clocks

__all__ = [
    'BusinessCalendarSerializer',
    'ClockEventSerializer',
    'ClockPauseSerializer',
    'OperationalLevelAgreementSerializer',
    'RecordClocksField',
    'ServiceLevelAgreementSerializer',
    'SlaClockSerializer',
    'TicketClockSerializer',
    'UnderpinningContractSerializer',
]


class PriorityField(serializers.ChoiceField):
    """A priority as 0–4, also accepting "P0"–"P4"."""

    def __init__(self, **kwargs):
        super().__init__(choices=Priority.choices, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.upper().startswith('P') and data[1:].isdigit():
            data = int(data[1:])
        return super().to_internal_value(data)


class TicketKindField(serializers.ChoiceField):
    """A kind of process record an SLA applies to: `incident` or `case` today, whatever kinds the records declare
    (`sla.records.kind_choices`). Documented inline, so the tickets' own `kind` enum keeps its name."""

    def __init__(self, **kwargs):
        choices = records.kind_choices()
        super().__init__(choices=choices, **kwargs)
        self._spectacular_annotation = {'field': {'type': 'string', 'enum': [value for value, _ in choices]}}


class PauseStateField(serializers.ChoiceField):
    """A state an agreement's clocks pause in: an open state of any process record's workflow."""

    def __init__(self, **kwargs):
        super().__init__(choices=records.pausable_states(), **kwargs)


class CalendarField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field='name', queryset=BusinessCalendar.objects.all(), **kwargs)


class ServiceField(serializers.SlugRelatedField):
    """A service by its CI number (CI0000101)."""

    def __init__(self, **kwargs):
        kwargs.setdefault('help_text', 'Service CI number; empty for the default of every service.')
        super().__init__(slug_field='number', queryset=ConfigurationItem.objects.services(), **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).upper())


class AgreementSerializer(serializers.ModelSerializer):
    calendar = CalendarField(required=False, help_text='Business calendar by name (default: 24x7).')
    warning_percents = serializers.ListField(child=serializers.IntegerField(), required=False)
    pause_states = serializers.ListField(child=PauseStateField(), required=False)

    def validate(self, attrs):
        if self.instance is None and 'calendar' not in attrs:
            attrs['calendar'] = BusinessCalendar.objects.builtin_24x7()
        return attrs


class ServiceLevelAgreementSerializer(AgreementSerializer):
    ticket_kind = TicketKindField(required=False)
    priority = PriorityField()
    service = ServiceField(required=False, allow_null=True)

    class Meta:
        model = ServiceLevelAgreement
        fields = [
            'id',
            'name',
            'ticket_kind',
            'priority',
            'service',
            'response_minutes',
            'resolution_minutes',
            'hypercare',
            'calendar',
            'warning_percents',
            'pause_states',
            'active',
            'description',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'created_at', 'updated_at']
        validators = []  # the one-active-SLA rules are checked by the model, which names the clash


class OperationalLevelAgreementSerializer(AgreementSerializer):
    group = serializers.SlugRelatedField(
        source='support_group', slug_field='name', queryset=SupportGroup.objects.all(), help_text='Support group name.'
    )
    priority = PriorityField(required=False, allow_null=True)

    class Meta:
        model = OperationalLevelAgreement
        fields = [
            'id',
            'name',
            'group',
            'priority',
            'accept_minutes',
            'resolve_minutes',
            'calendar',
            'warning_percents',
            'pause_states',
            'active',
            'description',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'created_at', 'updated_at']
        validators = []


class UnderpinningContractSerializer(serializers.ModelSerializer):
    calendar = CalendarField(required=False)
    service = ServiceField(required=False, allow_null=True)

    class Meta:
        model = UnderpinningContract
        fields = [
            'id',
            'name',
            'supplier',
            'reference',
            'service',
            'response_minutes',
            'resolution_minutes',
            'calendar',
            'contact_email',
            'contact_phone',
            'valid_from',
            'valid_until',
            'notes',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'created_at', 'updated_at']
        validators = []

    def validate(self, attrs):
        if self.instance is None and 'calendar' not in attrs:
            attrs['calendar'] = BusinessCalendar.objects.builtin_24x7()
        return attrs


class BusinessCalendarSerializer(serializers.ModelSerializer):
    hours = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Per weekday (mon…sun) a list of intervals like "08:00-18:00"; missing days are closed.',
    )
    custom_holidays = serializers.ListField(
        required=False, help_text='Dates ("2026-12-24") or {"date": "2026-12-24", "name": "Christmas Eve"}.'
    )

    class Meta:
        model = BusinessCalendar
        fields = [
            'id',
            'name',
            'timezone',
            'hours',
            'holiday_country',
            'holiday_subdivision',
            'custom_holidays',
            'description',
            'builtin',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'builtin', 'created_at', 'updated_at']


def _seconds(delta) -> int:
    return int(delta.total_seconds())


class TicketClockSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """One clock as a ticket shows it (`sla` on every ticket response)."""

    kind = serializers.CharField(read_only=True, help_text='response, resolution, ola_accept or ola_resolve')
    state = serializers.CharField(read_only=True, help_text='running, paused, met or breached')
    elapsed_business_seconds = serializers.SerializerMethodField()
    remaining_business_seconds = serializers.SerializerMethodField()
    breached = serializers.BooleanField(read_only=True)
    group = serializers.SlugRelatedField(source='support_group', slug_field='name', read_only=True)
    calendar = serializers.SlugRelatedField(slug_field='name', read_only=True)
    likely_to_breach = serializers.BooleanField(
        read_only=True, help_text='The queue forecast expects the work done after the due time (sla.forecast).'
    )
    forecast_at = serializers.DateTimeField(
        read_only=True, help_text='While likely to breach: when the queue forecast expects the work done.'
    )
    forecast_ahead = serializers.IntegerField(
        read_only=True, help_text="While likely to breach: open tickets ahead in the group's queue."
    )
    forecast_rate = serializers.FloatField(
        read_only=True, help_text="While likely to breach: the group's tickets completed per business hour."
    )

    class Meta:
        model = SlaClock
        fields = [
            'name',
            'kind',
            'target_minutes',
            'started_at',
            'due_at',
            'state',
            'elapsed_business_seconds',
            'remaining_business_seconds',
            'breached',
            'stopped_at',
            'group',
            'calendar',
            'likely_to_breach',
            'forecast_warned_at',
            'forecast_at',
            'forecast_ahead',
            'forecast_rate',
        ]
        read_only_fields = fields

    def _now(self):
        now = self.context.get('sla_now')
        if now is None:
            now = self.context['sla_now'] = timezone.now()
        return now

    def get_elapsed_business_seconds(self, clock) -> int:
        return _seconds(clock.elapsed_at(self._now()))

    def get_remaining_business_seconds(self, clock) -> int:
        return _seconds(clock.remaining_at(self._now()))


class RecordClocksField(serializers.ListSerializer):
    """A record's clocks as `TicketClockSerializer` gives them, read with `sla.selectors.record_clocks` (those
    prefetched with the page, else one query); `kinds` keeps only those kinds. A declared field, so the clock
    serializer's fields are built once for a whole page, not once per record."""

    def __init__(self, *args, kinds: tuple[str, ...] = (), **kwargs):
        self.kinds = kinds
        kwargs.setdefault('child', TicketClockSerializer())
        kwargs.setdefault('read_only', True)
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance):
        clocks = record_clocks(instance)
        return [clock for clock in clocks if clock.kind in self.kinds] if self.kinds else clocks


class SlaClockSerializer(TicketClockSerializer):
    """A clock on its own (`/api/v1/sla-clocks/`): its record's number (`ticket`), its agreement and its pauses."""

    ticket = serializers.CharField(
        source='record.number', read_only=True, help_text='Number of the record the clock measures.'
    )
    sla = serializers.PrimaryKeyRelatedField(read_only=True)
    ola = serializers.PrimaryKeyRelatedField(read_only=True)
    stop_reason = serializers.CharField(read_only=True, help_text='accepted, completed, handoff or closed')

    class Meta(TicketClockSerializer.Meta):
        fields = [
            'id',
            'ticket',
            *TicketClockSerializer.Meta.fields,
            'sla',
            'ola',
            'warning_percents',
            'pause_states',
            'next_check_at',
            'warned_at',
            'breached_at',
            'stop_reason',
        ]
        read_only_fields = fields


class ClockPauseSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source='clock.record.number', read_only=True)
    ticket_state = serializers.CharField(read_only=True, help_text='The record state that paused the clock.')

    class Meta:
        model = ClockPause
        fields = ['id', 'clock', 'ticket', 'started_at', 'ended_at', 'ticket_state', 'reason']
        read_only_fields = fields


class ClockEventSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source='clock.record.number', read_only=True)
    clock_name = serializers.CharField(source='clock.name', read_only=True)
    clock_kind = serializers.CharField(source='clock.kind', read_only=True)
    kind = serializers.CharField(read_only=True, help_text='warning or breach')

    class Meta:
        model = ClockEvent
        fields = [
            'id',
            'clock',
            'ticket',
            'clock_name',
            'clock_kind',
            'kind',
            'percent',
            'crossed_at',
            'at',
            'superseded',
            'notified_at',
            'recipients',
        ]
        read_only_fields = fields
