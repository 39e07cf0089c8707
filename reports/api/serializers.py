"""API shapes of scheduled reports and kept reports. They validate input; `reports.services` writes."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from cmdb.models import ConfigurationItem
from incidents.choices import TicketChannel
from itsm.choices import Priority
from itsm.models import SupportGroup, User

from ..choices import Breakdown, Interval
from ..models import Report, ReportSchedule
from ..slices import FILTERS

__all__ = ['ReportScheduleSerializer', 'ReportSerializer', 'ReportUpdateSerializer']


class ReportScheduleSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field='username', queryset=User.objects.all(), help_text='The manager it is for (username).'
    )
    slices = serializers.ListField(child=serializers.ChoiceField(choices=Breakdown.choices), required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    group = serializers.SlugRelatedField(
        slug_field='name', queryset=SupportGroup.objects.all(), required=False, allow_null=True
    )
    service = serializers.SlugRelatedField(
        slug_field='number',
        queryset=ConfigurationItem.objects.services(),
        required=False,
        allow_null=True,
        help_text='Service CI number.',
    )
    channel = serializers.ChoiceField(choices=TicketChannel.choices, required=False, allow_blank=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReportSchedule
        fields = [
            'id',
            'name',
            'owner',
            'extra_recipients',
            'frequency',
            'slices',
            'kind',
            'priority',
            'group',
            'service',
            'category',
            'channel',
            'active',
            'next_run_at',
            'last_run_at',
            'created_at',
            'updated_at',
            'url',
        ]
        read_only_fields = ['next_run_at', 'last_run_at', 'created_at', 'updated_at']

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class ReportSerializer(serializers.ModelSerializer):
    """A kept report. POST generates one: its period, slices, filters (as the metrics API takes them)."""

    period_start = serializers.DateField()
    period_end = serializers.DateField()
    interval = serializers.ChoiceField(choices=Interval.choices, required=False, allow_blank=True)
    slices = serializers.ListField(child=serializers.ChoiceField(choices=Breakdown.choices), required=False)
    filters = serializers.DictField(
        child=serializers.CharField(), required=False, help_text=f'Any of: {", ".join(FILTERS)}.'
    )
    send = serializers.BooleanField(write_only=True, required=False, help_text='E-mail it to me with the CSV.')
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    created_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            'id',
            'title',
            'notes',
            'schedule',
            'created_by',
            'period_start',
            'period_end',
            'interval',
            'slices',
            'filters',
            'send',
            'summary',
            'emailed_to',
            'sent_at',
            'csv_url',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['schedule', 'summary', 'emailed_to', 'sent_at', 'created_at', 'updated_at']

    def get_csv_url(self, obj) -> str:
        return reverse('reports:report_csv', args=[obj.pk])

    def validate_filters(self, value):
        unknown = sorted(set(value) - set(FILTERS))
        if unknown:
            raise serializers.ValidationError(f'Unknown filter {", ".join(unknown)}: use {", ".join(FILTERS)}.')
        return value


class ReportUpdateSerializer(ReportSerializer):
    """Only a kept report's title and notes change; its figures stay as generated."""

    class Meta(ReportSerializer.Meta):
        read_only_fields = [f for f in ReportSerializer.Meta.fields if f not in ('title', 'notes')]

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if name not in ('title', 'notes'):
                field.read_only = True
        return fields
