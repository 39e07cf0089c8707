"""Forms of the change pages: they validate and shape input; `changes.services` writes."""

from __future__ import annotations

from typing import Any

from django import forms

from itsm.forms import ActionForm, group_choices, staff_people
from problems.forms import ConfigurationItemsField, ServicesField, service_items

from .choices import ChangeOutcome, ChangeType
from .models import Change, ChangeModel, ChangeModelTask, ChangeTask

DATETIME = forms.DateTimeInput(attrs={'type': 'datetime-local'}, format='%Y-%m-%dT%H:%M')
PLAN_FIELDS = ('justification', 'implementation_plan', 'backout_plan', 'test_plan')


def active_models():
    return ChangeModel.objects.filter(active=True).order_by('name')


class ChangeFormBase(forms.ModelForm):
    wide_fields = ('short_description', 'description', *PLAN_FIELDS)

    services = ServicesField(queryset=service_items().none(), required=False)
    cis = ConfigurationItemsField(label='Configuration items')
    planned_start = forms.DateTimeField(required=False, widget=DATETIME)
    planned_end = forms.DateTimeField(required=False, widget=DATETIME)

    class Meta:
        model = Change
        fields: list[str] = []
        widgets = {
            'description': forms.Textarea(attrs={'rows': 3}),
            'justification': forms.Textarea(attrs={'rows': 2}),
            'implementation_plan': forms.Textarea(attrs={'rows': 3}),
            'backout_plan': forms.Textarea(attrs={'rows': 3}),
            'test_plan': forms.Textarea(attrs={'rows': 2}),
            'review_notes': forms.Textarea(attrs={'rows': 3}),
            'short_description': forms.TextInput(attrs={'autocomplete': 'off'}),
        }
        labels = {'short_description': 'Short description', 'cis': 'Configuration items'}
        help_texts = {'backout_plan': 'Required for normal and emergency changes before they are submitted.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['services'].queryset = service_items()
        for name in ('requester', 'owner', 'assignee'):
            if name in self.fields:
                self.fields[name].queryset = staff_people()
                self.fields[name].empty_label = '— nobody —'
        if 'assignment_group' in self.fields:
            self.fields['assignment_group'].queryset = group_choices()
            self.fields['assignment_group'].empty_label = '— none —'
        if 'change_model' in self.fields:
            self.fields['change_model'].queryset = active_models()
            self.fields['change_model'].empty_label = '— not a standard change —'
        if self.instance.pk and not self.is_bound:
            self.initial['cis'] = list(self.instance.cis.all())

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ChangeCreateForm(ChangeFormBase):
    """Draft a request for change: its type (a standard change picks its model), what and where, when, the plans."""

    class Meta(ChangeFormBase.Meta):
        fields = [
            'change_type',
            'change_model',
            'short_description',
            'description',
            'cis',
            'services',
            'owner',
            'assignment_group',
            'planned_start',
            'planned_end',
            *PLAN_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['change_model'].help_text = 'Standard changes only: the model gives the plans and the tasks.'


class ChangeEditForm(ChangeFormBase):
    """What the change is and where, its people, window and plans (the state moves through the actions)."""

    class Meta(ChangeFormBase.Meta):
        fields = [
            'short_description',
            'description',
            'cis',
            'services',
            'requester',
            'owner',
            'assignment_group',
            'assignee',
            'planned_start',
            'planned_end',
            *PLAN_FIELDS,
            'review_notes',
        ]


# -------------------------------------------------------------------------------------------------- actions
class ScheduleForm(ActionForm):
    planned_start = forms.DateTimeField(widget=DATETIME, label='Planned start')
    planned_end = forms.DateTimeField(widget=DATETIME, label='Planned end')
    freeze_override_reason = forms.CharField(
        required=False,
        max_length=300,
        label='Freeze override reason',
        help_text='Only when the window falls inside a freeze: why the change cannot wait.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None:
            self.fields['planned_start'].initial = self.record.planned_start
            self.fields['planned_end'].initial = self.record.planned_end


class TestsForm(ActionForm):
    wide_fields = ('test_results',)

    test_results = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), label='Test results')
    tests_passed = forms.TypedChoiceField(
        choices=[('true', 'Passed'), ('false', 'Failed')],
        coerce=lambda value: value == 'true',
        label='Verdict',
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None and self.record.test_results:
            self.fields['test_results'].initial = self.record.test_results


class CloseForm(ActionForm):
    wide_fields = ('review_notes',)

    outcome = forms.ChoiceField(choices=ChangeOutcome.choices)
    review_notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={'rows': 3}),
        label='Post-implementation review',
        help_text='Required for failed, backed-out and emergency changes.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None:
            self.fields['review_notes'].initial = self.record.review_notes


class TaskForm(ActionForm):
    """An implementation task added by hand."""

    wide_fields = ('title', 'description')

    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={'rows': 2}))
    assignment_group = forms.ModelChoiceField(queryset=group_choices(), required=False, empty_label='— none —')
    position = forms.IntegerField(required=False, min_value=0, help_text='Order among the tasks (after the others).')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['assignment_group'].queryset = group_choices()
        if self.record is not None:
            self.fields['assignment_group'].initial = self.record.assignment_group_id


# ---------------------------------------------------------------------------------------------------- tasks
class ChangeTaskCreateForm(forms.ModelForm):
    """A task added from the task list: the open change it belongs to, what, who, in which order."""

    title = forms.CharField(max_length=200, label='Short description')
    change = forms.ModelChoiceField(queryset=Change.objects.none())

    class Meta:
        model = ChangeTask
        fields = ['change', 'title', 'description', 'assignment_group', 'position']
        widgets = {'description': forms.Textarea(attrs={'rows': 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['change'].queryset = Change.objects.open().order_by('-opened_at')
        self.fields['assignment_group'].queryset = group_choices()
        self.fields['position'].required = False

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return {
            'change': data['change'],
            'title': data['title'],
            'description': data.get('description') or '',
            'assignment_group': data.get('assignment_group'),
            'position': data.get('position'),
        }


class ChangeTaskEditForm(forms.ModelForm):
    class Meta:
        model = ChangeTask
        fields = ['short_description', 'description', 'assignment_group', 'assignee', 'position']
        widgets = {'description': forms.Textarea(attrs={'rows': 2})}
        labels = {'short_description': 'Short description'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['assignment_group'].queryset = group_choices()
        self.fields['assignee'].queryset = staff_people()

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# ------------------------------------------------------------------------------------------------ catalogue
class ChangeModelForm(forms.ModelForm):
    class Meta:
        model = ChangeModel
        fields = [
            'name',
            'description',
            'risk_level',
            'assignment_group',
            'implementation_plan',
            'backout_plan',
            'test_plan',
            'active',
        ]
        widgets = {
            name: forms.Textarea(attrs={'rows': 3})
            for name in ('description', 'implementation_plan', 'backout_plan', 'test_plan')
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['assignment_group'].queryset = group_choices()


class ChangeModelTaskForm(forms.ModelForm):
    class Meta:
        model = ChangeModelTask
        fields = ['change_model', 'position', 'title', 'description', 'assignment_group']
        widgets = {'description': forms.Textarea(attrs={'rows': 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['assignment_group'].queryset = group_choices()


__all__ = [
    'ChangeCreateForm',
    'ChangeEditForm',
    'ChangeModelForm',
    'ChangeModelTaskForm',
    'ChangeTaskCreateForm',
    'ChangeTaskEditForm',
    'ChangeType',
    'CloseForm',
    'ScheduleForm',
    'TaskForm',
    'TestsForm',
]
