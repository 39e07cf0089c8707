from django import forms
from django.core.exceptions import ValidationError

from itsm import timezones
from itsm.models import SupportGroup, User

from .choices import Weekday
from .models import EscalationPolicy, OnCallOverride, OnCallSchedule, RotationLayer


class OnCallScheduleForm(forms.ModelForm):
    class Meta:
        model = OnCallSchedule
        fields = ['group', 'name', 'time_zone', 'description']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['group'].queryset = SupportGroup.objects.order_by('name')

    def clean_time_zone(self):
        zone = self.cleaned_data['time_zone'].strip()
        if zone not in timezones.all_zones():
            raise ValidationError(f'"{zone}" is not a time zone (e.g. Europe/London).')
        return zone


class RotationLayerForm(forms.ModelForm):
    """Members are typed as usernames in turn order; weekdays are ticked."""

    people = forms.CharField(
        label='Members', help_text='Usernames in turn order, separated by commas.', max_length=2000
    )
    days = forms.TypedMultipleChoiceField(
        label='Covered weekdays',
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text='None ticked: every day.',
    )

    class Meta:
        model = RotationLayer
        fields = [
            'schedule',
            'name',
            'position',
            'people',
            'handoff',
            'handoff_time',
            'handoff_weekday',
            'rotation_start',
            'days',
            'restrict_from',
            'restrict_to',
        ]
        widgets = {
            'handoff_time': forms.TimeInput(attrs={'type': 'time'}, format='%H:%M'),
            'restrict_from': forms.TimeInput(attrs={'type': 'time'}, format='%H:%M'),
            'restrict_to': forms.TimeInput(attrs={'type': 'time'}, format='%H:%M'),
            'rotation_start': forms.DateInput(attrs={'type': 'date'}, format='%Y-%m-%d'),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['schedule'].queryset = OnCallSchedule.objects.select_related('group').order_by('name')
        if self.instance.pk:
            names = dict(User.objects.filter(pk__in=self.instance.members or []).values_list('pk', 'username'))
            self.initial['people'] = ', '.join(names.get(pk, str(pk)) for pk in self.instance.members or [])
            self.initial['days'] = self.instance.restrict_days

    def clean_people(self):
        names = [name.strip() for name in self.cleaned_data['people'].split(',') if name.strip()]
        found = dict(User.objects.filter(username__in=names, is_active=True).values_list('username', 'pk'))
        missing = [name for name in names if name not in found]
        if missing:
            raise ValidationError(f'No active person called {", ".join(missing)}.')
        return [found[name] for name in names]

    def service_fields(self):
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name not in ('people', 'days')}
        return {**data, 'members': self.cleaned_data['people'], 'restrict_days': self.cleaned_data['days']}


class OnCallOverrideForm(forms.ModelForm):
    class Meta:
        model = OnCallOverride
        fields = ['schedule', 'person', 'start', 'end', 'note']
        widgets = {
            'start': forms.DateTimeInput(attrs={'type': 'datetime-local'}, format='%Y-%m-%dT%H:%M'),
            'end': forms.DateTimeInput(attrs={'type': 'datetime-local'}, format='%Y-%m-%dT%H:%M'),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['schedule'].queryset = OnCallSchedule.objects.select_related('group').order_by('name')
        self.fields['person'].queryset = User.objects.filter(is_active=True).order_by('username')
        self.fields['person'].required = False
        self.fields['person'].help_text = 'Left empty: yourself.'
        if user is not None and not self.instance.pk:
            self.initial.setdefault('person', user.pk)


class EscalationPolicyForm(forms.ModelForm):
    """Levels typed one per line, in order: `on-call 15`, `person alice 20`, `manager` (the number: minutes to
    wait for an acknowledgement before the next line is paged)."""

    wide_fields = ('steps',)
    steps = forms.CharField(
        label='Levels',
        widget=forms.Textarea(attrs={'rows': 4}),
        help_text='One level per line: "on-call 15", "person <username> 20" or "manager"; the number is the '
        'minutes to wait before the next line is paged.',
    )

    class Meta:
        model = EscalationPolicy
        fields = ['group', 'name', 'steps', 'active']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['group'].queryset = SupportGroup.objects.order_by('name')
        levels = self.instance.levels if self.instance.pk else EscalationPolicy._meta.get_field('levels').default()
        self.initial.setdefault('steps', steps_text(levels))

    def clean_steps(self):
        levels = []
        for number, line in enumerate(self.cleaned_data['steps'].splitlines(), start=1):
            words = line.replace(',', ' ').split()
            if not words:
                continue
            kind, rest = words[0].lower(), words[1:]
            minutes = None
            if rest and rest[-1].isdigit():
                minutes = int(rest.pop())
            if kind in ('on-call', 'oncall', 'schedule') and not rest:
                level = {'notify': 'schedule'}
            elif kind == 'manager' and not rest:
                level = {'notify': 'manager'}
            elif kind == 'person' and len(rest) == 1:
                person = User.objects.filter(username=rest[0], is_active=True).first()
                if person is None:
                    raise ValidationError(f'Line {number}: no active person called {rest[0]}.')
                level = {'notify': 'person', 'person': person.pk}
            else:
                raise ValidationError(f'Line {number}: write "on-call 15", "person <username> 20" or "manager".')
            if minutes is not None:
                level['minutes'] = minutes
            levels.append(level)
        if not levels:
            raise ValidationError('Give at least one level.')
        return levels

    def service_fields(self):
        return {
            'group': self.cleaned_data['group'],
            'name': self.cleaned_data['name'],
            'levels': self.cleaned_data['steps'],
            'active': self.cleaned_data['active'],
        }


def steps_text(levels) -> str:
    names = dict(User.objects.filter(pk__in=[lv.get('person') for lv in levels or []]).values_list('pk', 'username'))
    lines = []
    for level in levels or []:
        if level.get('notify') == 'person':
            words = ['person', names.get(level.get('person'), str(level.get('person')))]
        else:
            words = ['on-call' if level.get('notify') == 'schedule' else 'manager']
        if level.get('minutes'):
            words.append(str(level['minutes']))
        lines.append(' '.join(words))
    return '\n'.join(lines)
