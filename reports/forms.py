"""Forms of scheduled reports and of generating a report now. Filters mirror `reports.slices.SliceForm`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from incidents.choices import TicketChannel
from itsm.choices import Priority, TicketKind

from .choices import Breakdown, Interval
from .models import Report, ReportSchedule
from .slices import ReportDateField, local_zone

__all__ = ['ReportEditForm', 'ReportForm', 'ReportScheduleForm']

SLICE_HELP = 'MTTR is shown for each value of every slice you tick, beside the overall figure and the trend.'


class ReportScheduleForm(forms.ModelForm):
    slices = forms.MultipleChoiceField(
        choices=Breakdown.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text=SLICE_HELP
    )
    channel = forms.ChoiceField(choices=[('', 'Any'), *TicketChannel.choices], required=False)

    class Meta:
        model = ReportSchedule
        fields = [
            'name',
            'owner',
            'frequency',
            'slices',
            'extra_recipients',
            'kind',
            'priority',
            'group',
            'service',
            'category',
            'channel',
            'active',
        ]
        widgets = {'extra_recipients': forms.Textarea(attrs={'rows': 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from itsm.choices import Role
        from itsm.models import User

        self.fields['owner'].queryset = User.objects.filter(groups__name=Role.MANAGER, is_active=True).distinct()
        self.fields['owner'].label = 'Manager'
        if not self.instance.pk:
            self.initial.setdefault('slices', [Breakdown.PRIORITY, Breakdown.GROUP])

    def clean_extra_recipients(self) -> str:
        text = self.cleaned_data.get('extra_recipients') or ''
        validator = forms.EmailField()
        for line in text.splitlines():
            for part in line.split(','):
                if part.strip():
                    validator.clean(part.strip())
        return text


class ReportForm(forms.Form):
    """Generate an MTTR report now: its period, trend interval, slices and filters."""

    period_start = ReportDateField(label='From', widget=forms.DateInput(attrs={'type': 'date'}))
    period_end = ReportDateField(label='To', widget=forms.DateInput(attrs={'type': 'date'}))
    title = forms.CharField(max_length=200, required=False, help_text='Left empty: "MTTR <from>–<to>".')
    interval = forms.ChoiceField(choices=[('', 'Automatic'), *Interval.choices], required=False)
    slices = forms.MultipleChoiceField(
        choices=Breakdown.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text=SLICE_HELP
    )
    kind = forms.ChoiceField(choices=[('', 'Incidents and cases'), *TicketKind.choices], required=False)
    priority = forms.TypedChoiceField(
        choices=[('', 'Any'), *Priority.choices], required=False, coerce=int, empty_value=None
    )
    group = forms.ModelChoiceField(queryset=None, required=False)
    service = forms.ModelChoiceField(queryset=None, required=False)
    category = forms.ModelChoiceField(queryset=None, required=False)
    channel = forms.ChoiceField(choices=[('', 'Any'), *TicketChannel.choices], required=False)
    send_to_me = forms.BooleanField(required=False, label='E-mail it to me with the CSV attached')
    notes = forms.CharField(widget=forms.Textarea(attrs={'rows': 2}), required=False)

    def __init__(self, *args, instance=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from cmdb.models import ConfigurationItem
        from incidents.models import Category
        from itsm.models import SupportGroup

        self.user = user
        self.fields['group'].queryset = SupportGroup.objects.active()
        self.fields['service'].queryset = ConfigurationItem.objects.filter(ci_class='service')
        self.fields['category'].queryset = Category.objects.filter(parent__isnull=True, active=True)
        today = timezone.localdate(timezone=local_zone())
        monday = today - dt.timedelta(days=today.weekday())
        self.initial.setdefault('period_start', monday - dt.timedelta(days=7))
        self.initial.setdefault('period_end', monday - dt.timedelta(days=1))
        self.initial.setdefault('slices', [Breakdown.PRIORITY, Breakdown.GROUP])

    def clean(self):
        data = super().clean()
        if data.get('period_start') and data.get('period_end') and data['period_start'] > data['period_end']:
            self.add_error('period_end', 'The report cannot end before it starts.')
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        filters = {
            'kind': data.get('kind') or '',
            'priority': '' if data.get('priority') is None else str(data['priority']),
            'group': str(data['group'].pk) if data.get('group') else '',
            'service': str(data['service'].pk) if data.get('service') else '',
            'category': str(data['category'].pk) if data.get('category') else '',
            'channel': data.get('channel') or '',
        }
        send_to = [self.user.email] if data.get('send_to_me') and self.user and self.user.email else []
        return {
            'period_start': data['period_start'],
            'period_end': data['period_end'],
            'title': data.get('title') or '',
            'notes': data.get('notes') or '',
            'interval': data.get('interval') or '',
            'slices': list(data.get('slices') or []),
            'filters': {k: v for k, v in filters.items() if v},
            'send_to': send_to,
        }


class ReportEditForm(forms.ModelForm):
    """A kept report's title and notes; its figures stay as generated."""

    class Meta:
        model = Report
        fields = ['title', 'notes']
        widgets = {'notes': forms.Textarea(attrs={'rows': 3})}
