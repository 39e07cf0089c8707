"""Forms of the service level pages. They shape input (hours per weekday, holidays one per line, warnings as
"75, 90"); the models' `clean()` and `sla.services` hold the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError

from cmdb.models import ConfigurationItem

from . import business_time, records
from .choices import WEEKDAYS
from .models import (
    BusinessCalendar,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    UnderpinningContract,
    holiday_countries,
    validate_percents,
)

__all__ = [
    'BusinessCalendarForm',
    'OperationalLevelAgreementForm',
    'ServiceLevelAgreementForm',
    'UnderpinningContractForm',
]

HOURS_HELP = 'Intervals like 08:00-12:00, 13:00-17:00; empty means closed all day.'


class PercentsField(forms.CharField):
    """Warning thresholds typed as "75, 90"."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ', '.join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if isinstance(text, list):
            return text
        try:
            values = [int(part.strip().rstrip('%')) for part in text.replace(';', ',').split(',') if part.strip()]
        except ValueError:
            raise ValidationError('Give whole percentages separated by commas, like 75, 90.') from None
        return validate_percents(values)


class AgreementForm(forms.ModelForm):
    warning_percents = PercentsField(
        required=False, initial='75, 90', label='Warnings at (%)', help_text='Warn when this share has passed.'
    )
    pause_states = forms.MultipleChoiceField(
        choices=records.pausable_states,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=records.default_pause_states,
        label='Pause while the record is',
        help_text='The clocks stop counting in these states and go on where they stopped afterwards.',
    )
    wide_fields = ('description', 'pause_states')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if 'calendar' in self.fields and not self.instance.pk:
            self.fields['calendar'].initial = BusinessCalendar.objects.builtin_24x7().pk


class ServiceLevelAgreementForm(AgreementForm):
    class Meta:
        model = ServiceLevelAgreement
        fields = [
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
        ]
        labels = {'response_minutes': 'Response target (minutes)', 'resolution_minutes': 'Resolution target (minutes)'}
        widgets = {'description': forms.Textarea(attrs={'rows': 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = ConfigurationItem.objects.services().order_by('name')
        self.fields['service'].empty_label = 'Default (every service without its own SLA)'


class OperationalLevelAgreementForm(AgreementForm):
    class Meta:
        model = OperationalLevelAgreement
        fields = [
            'name',
            'support_group',
            'priority',
            'accept_minutes',
            'resolve_minutes',
            'calendar',
            'warning_percents',
            'pause_states',
            'active',
            'description',
        ]
        labels = {'accept_minutes': 'Accept target (minutes)', 'resolve_minutes': 'Resolve target (minutes)'}
        widgets = {'description': forms.Textarea(attrs={'rows': 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['priority'].empty_label = 'Every priority'


class UnderpinningContractForm(forms.ModelForm):
    wide_fields = ('notes',)

    class Meta:
        model = UnderpinningContract
        fields = [
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
        ]
        labels = {'response_minutes': 'Response target (minutes)', 'resolution_minutes': 'Resolution target (minutes)'}
        widgets = {
            'notes': forms.Textarea(attrs={'rows': 3}),
            'valid_from': forms.DateInput(attrs={'type': 'date'}),
            'valid_until': forms.DateInput(attrs={'type': 'date'}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = ConfigurationItem.objects.services().order_by('name')
        if not self.instance.pk:
            self.fields['calendar'].initial = BusinessCalendar.objects.builtin_24x7().pk


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones()) if '/' in name or name == 'UTC']


def _country_choices() -> list[tuple[str, str]]:
    return [('', 'No public holidays'), *((code, code) for code in sorted(holiday_countries()))]


class BusinessCalendarForm(forms.ModelForm):
    """A calendar: one field of intervals per weekday and custom holidays one per line ("2026-12-24 Christmas Eve")."""

    custom_holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={'rows': 4}),
        help_text='One closed day per line: a date, then an optional name (2026-12-24 Christmas Eve).',
    )
    wide_fields = ('description', 'custom_holidays')

    class Meta:
        model = BusinessCalendar
        fields = ['name', 'timezone', 'holiday_country', 'holiday_subdivision', 'custom_holidays', 'description']
        widgets = {'description': forms.Textarea(attrs={'rows': 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['timezone'] = forms.ChoiceField(choices=_timezone_choices(), initial='UTC', label='Time zone')
        self.fields['holiday_country'] = forms.ChoiceField(
            choices=_country_choices(),
            required=False,
            label='Public holidays of',
            help_text='Country code of the holidays calendar (DE, FR, GB, US, ...).',
        )
        self.fields['holiday_subdivision'].label = 'Region'
        hours = self.instance.hours if self.instance.pk else {key: ['08:00-18:00'] for key, _ in WEEKDAYS[:5]}
        for key, label in WEEKDAYS:
            self.fields[f'hours_{key}'] = forms.CharField(
                required=False, label=label, initial=', '.join(hours.get(key, [])), help_text=HOURS_HELP
            )
        if self.instance.pk:
            self.initial['custom_holidays'] = '\n'.join(
                f'{item["date"]} {item.get("name", "")}'.strip() for item in self.instance.custom_holidays
            )
        order = [
            'name',
            'timezone',
            *(f'hours_{key}' for key, _ in WEEKDAYS),
            'holiday_country',
            'holiday_subdivision',
            'custom_holidays',
            'description',
        ]
        self.fields = {name: self.fields[name] for name in order}

    def clean_custom_holidays(self) -> list[dict[str, str]]:
        days = []
        for number, line in enumerate((self.cleaned_data.get('custom_holidays') or '').splitlines(), start=1):
            if not line.strip():
                continue
            date_text, _, name = line.strip().partition(' ')
            try:
                day = dt.date.fromisoformat(date_text)
            except ValueError:
                raise ValidationError(f'Line {number}: "{date_text}" is not a date like 2026-12-24.') from None
            days.append({'date': day.isoformat(), 'name': name.strip()[:80]})
        return sorted(days, key=lambda item: item['date'])

    def clean(self):
        cleaned = super().clean()
        hours: dict[str, list[str]] = {}
        for key, _ in WEEKDAYS:
            text = cleaned.get(f'hours_{key}') or ''
            try:
                parsed = business_time.parse_hours(part for part in text.split(',') if part.strip())
            except ValueError as error:
                self.add_error(f'hours_{key}', str(error))
                continue
            if parsed:
                hours[key] = business_time.format_hours(parsed)
        if not hours and not self.errors:
            raise ValidationError('Give working hours on at least one day.')
        cleaned['hours'] = self.instance.hours = hours
        return cleaned

    def service_fields(self) -> dict[str, Any]:
        names = [
            'name',
            'timezone',
            'hours',
            'holiday_country',
            'holiday_subdivision',
            'custom_holidays',
            'description',
        ]
        return {name: self.cleaned_data[name] for name in names}
