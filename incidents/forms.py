"""Forms of the ticket pages and the portal. They parse and validate input; `incidents.services` decides and writes.

The action forms (`itsm.forms.ActionForm`) take the ticket they act on as `record` and offer `service_kwargs()`:
what the action's service receives besides the ticket and the actor. Those any record shares (assign, escalate, a
reason, a note) come from `itsm.forms`, named here for `TICKET_ACTIONS`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from cmdb.models import ConfigurationItem
from itsm import forms as core
from itsm.choices import Impact, Priority, TicketKind, Urgency
from itsm.forms import (
    GROUP_LABEL,
    PERSON_LABEL,
    ActionForm,
    ListedModelChoiceField,
    PersonField,
    PlainSelect,
    group_choices,
    staff_people,
)
from itsm.models import SupportGroup, User

from .choices import PendingReason, ResolutionCode, TicketChannel
from .models import Category, PriorityMatrixEntry, ResponseTemplate, Ticket
from .services import REQUESTER_IMPACTS, REQUESTER_URGENCIES

DATETIME_LOCAL = '%Y-%m-%dT%H:%M'


class ConfigurationItemField(forms.CharField):
    """A configuration item picked by number (CI0000123) from a search box with suggestions."""

    default_error_messages = {'unknown': 'There is no configuration item “%(value)s”.'}

    def __init__(self, *args, datalist: str = '', **kwargs):
        kwargs.setdefault('max_length', 200)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({'autocomplete': 'off', 'spellcheck': 'false', 'placeholder': 'CI number or name'})
        if datalist:
            self.widget.attrs['list'] = datalist

    def prepare_value(self, value):
        if isinstance(value, ConfigurationItem):
            return value.number
        if isinstance(value, int):
            return ConfigurationItem.objects.filter(pk=value).values_list('number', flat=True).first() or value
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        number = value.split()[0]
        ci = ConfigurationItem.objects.filter(Q(number__iexact=number) | Q(name__iexact=value)).first()
        if ci is None:
            raise forms.ValidationError(self.error_messages['unknown'], code='unknown', params={'value': value})
        return ci


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def service_queryset():
    return ConfigurationItem.objects.services().order_by('name')


# ------------------------------------------------------------------------------------------- create and edit
class TicketFormBase(forms.ModelForm):
    """Descriptive fields shared by the create and edit forms."""

    caller = PersonField(label='Caller', datalist='caller-options', help_text='The person affected.')
    ci = ConfigurationItemField(
        label='Configuration item',
        required=False,
        datalist='ci-options',
        help_text='Picking an item suggests the service it supports.',
    )
    service = ServiceChoiceField(queryset=service_queryset(), required=False, empty_label='— none —')

    class Meta:
        model = Ticket
        fields: list[str] = []
        widgets = {
            'description': forms.Textarea(attrs={'rows': 5}),
            'short_description': forms.TextInput(attrs={'autocomplete': 'off'}),
        }
        labels = {'ci': 'Configuration item', 'short_description': 'Short description'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = service_queryset()
        if 'category' in self.fields:
            self.fields['category'].queryset = Category.objects.filter(parent=None, active=True).order_by('name')
            self.fields['category'].empty_label = '— none —'
        if 'subcategory' in self.fields:
            self.fields['subcategory'].queryset = self.subcategory_queryset()
            self.fields['subcategory'].empty_label = '— none —'

    def current_category_id(self):
        if self.is_bound:
            value = self.data.get(self.add_prefix('category'))
            return int(value) if value and str(value).isdigit() else None
        return self.initial.get('category') or self.instance.category_id

    def subcategory_queryset(self):
        category = self.current_category_id()
        if category is None:
            return Category.objects.none()
        return Category.objects.filter(parent_id=category, active=True).order_by('name')

    def clean(self):
        cleaned = super().clean()
        ci, service = cleaned.get('ci'), cleaned.get('service')
        if ci is not None and service is None and 'service' not in self.errors:
            cleaned['service'] = suggested_service(ci)
        return cleaned


def suggested_service(ci: ConfigurationItem) -> ConfigurationItem | None:
    """The service the CMDB suggests for a configuration item, as a record (None when it supports none)."""
    from cmdb.selectors import suggested_service as suggest

    item = suggest(ci)
    if item is None:
        return None
    return ConfigurationItem.objects.filter(pk=item.id).first()


class TicketCreateForm(TicketFormBase):
    """An agent opens an incident or a case for a caller, and may hand it to a group straight away."""

    kind = forms.ChoiceField(choices=TicketKind.choices, widget=forms.RadioSelect, label='Type')
    assignment_group = forms.ModelChoiceField(
        queryset=SupportGroup.objects.none(), required=False, label='Assign to group', empty_label='— leave New —'
    )
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label='Assign to person', empty_label='— anyone in the group —'
    )
    # Left open, the channel decides (an e-mail report is P4, anything else low × normal): see `impact_and_urgency`.
    impact = forms.TypedChoiceField(
        choices=[('', '— as the channel sets —'), *Impact.choices], required=False, empty_value=None
    )
    urgency = forms.TypedChoiceField(
        choices=[('', '— as the channel sets —'), *Urgency.choices], required=False, empty_value=None
    )

    class Meta(TicketFormBase.Meta):
        fields = [
            'kind',
            'caller',
            'channel',
            'short_description',
            'description',
            'category',
            'subcategory',
            'symptom',
            'ci',
            'service',
            'impact',
            'urgency',
        ]

    def __init__(self, *args, kind: str = TicketKind.INCIDENT, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['kind'].initial = kind
        self.fields['channel'].initial = TicketChannel.PHONE
        self.fields['assignment_group'].queryset = group_choices()
        self.fields['assignee'].queryset = staff_people()


class TicketEditForm(TicketFormBase):
    """Descriptive fields an agent may change while the ticket is open."""

    class Meta(TicketFormBase.Meta):
        fields = [
            'caller',
            'channel',
            'short_description',
            'description',
            'category',
            'subcategory',
            'symptom',
            'ci',
            'service',
            'impact',
            'urgency',
            'eta',
        ]
        widgets = {
            **TicketFormBase.Meta.widgets,
            'eta': forms.DateTimeInput(attrs={'type': 'datetime-local'}, format=DATETIME_LOCAL),
        }


# -------------------------------------------------------------------------------------------------- actions
class AssignForm(core.AssignForm):
    members_url = 'incidents:assignee_options'


class PendForm(ActionForm):
    reason = forms.ChoiceField(choices=PendingReason.choices, label='Waiting for')
    note = forms.CharField(
        required=False,
        max_length=300,
        label='Note',
        help_text='Shown to the caller with the hold, in the portal and by e-mail: say what you need from them.',
    )
    until = forms.DateTimeField(
        required=False,
        label='Expected by',
        widget=forms.DateTimeInput(attrs={'type': 'datetime-local'}, format=DATETIME_LOCAL),
    )


class CompleteForm(ActionForm):
    resolution_code = forms.ChoiceField(choices=ResolutionCode.choices, label='Resolution code')
    resolution_notes = forms.CharField(
        label='Resolution notes',
        widget=forms.Textarea(attrs={'rows': 3}),
        help_text='What was done, in words the caller understands: they read it in the portal and by e-mail.',
    )


class ConvertForm(ActionForm):
    def target_kind(self) -> str:
        return TicketKind.CASE if self.record.kind == TicketKind.INCIDENT else TicketKind.INCIDENT

    def service_kwargs(self) -> dict[str, Any]:
        return {'to_kind': self.target_kind()}


class SecurityForm(ActionForm):
    """Mark a ticket as a security incident, or take the marking off; the reason is kept in the history."""

    security_incident = forms.TypedChoiceField(
        choices=(('true', 'Security incident'), ('false', 'Not a security incident')),
        coerce=lambda value: value == 'true',
        widget=forms.RadioSelect,
        label='Marking',
        help_text='A security incident is seen only by security groups, incident managers, its caller and its '
        'assignee.',
    )
    reason = forms.CharField(max_length=300, label='Reason', help_text='Required: the history keeps it.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial['security_incident'] = 'false' if self.record.security_incident else 'true'


class ParentForm(ActionForm):
    parent = forms.CharField(
        required=False,
        max_length=16,
        label='Parent incident',
        help_text='The number of the master or major incident; leave empty to unlink.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.record.parent_id:
            self.initial['parent'] = self.record.parent.number

    def clean_parent(self):
        number = self.cleaned_data['parent'].strip()
        if not number:
            return None
        parent = Ticket.objects.by_number(number).first()
        if parent is None:
            raise forms.ValidationError(f'There is no ticket {number.upper()}.')
        return parent


class PriorityForm(ActionForm):
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, label='Priority')
    reason = forms.CharField(max_length=300, label='Reason', help_text='Required: the history keeps it.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial['priority'] = self.record.priority


class CommentForm(core.CommentForm):
    """A work note, or a comment the caller receives by e-mail and sees in the portal."""

    VISIBILITY = (('internal', 'Internal work note'), ('public', 'Comment to the caller'))
    placeholder = 'Write a work note or a comment to the caller'

    def success_message(self, record) -> str:
        return (
            super().success_message(record)
            if self.cleaned_data['visibility'] == 'internal'
            else f'Comment sent to {record.caller}.'
        )


class BulkActionForm(forms.Form):
    """Queue rows selected for one bulk operation; each ticket then goes through its service on its own, checked by
    the same guard as the single action (a declared action of `TICKET_ACTIONS`, or the conversation's comment)."""

    OPERATIONS = (
        ('assign', 'Assign'),
        ('take', 'Take'),
        ('escalate', 'Escalate'),
        ('pend', 'Put on hold'),
        ('complete', 'Complete'),
        ('comment', 'Comment or work note'),
        ('priority', 'Set priority'),
    )
    # The input each operation sends to its service, as (form field, service keyword).
    INPUT = {
        'take': (),
        'assign': (('group', 'group'), ('assignee', 'assignee'), ('reason', 'reason')),
        'escalate': (('group', 'group'), ('reason', 'reason')),
        'pend': (('pending_reason', 'reason'), ('note', 'note')),
        'complete': (('resolution_code', 'resolution_code'), ('resolution_notes', 'resolution_notes')),
        'comment': (('body', 'body'),),
        'priority': (('priority', 'priority'), ('reason', 'reason')),
    }
    COMMENT_VISIBILITY = (('internal', 'Internal work note'), ('public', 'Comment to the caller'))

    tickets = forms.ModelMultipleChoiceField(
        queryset=Ticket.objects.all(), error_messages={'required': 'Select at least one ticket.'}
    )
    operation = forms.ChoiceField(choices=OPERATIONS, widget=PlainSelect)
    group = ListedModelChoiceField(
        queryset=SupportGroup.objects.none(),
        **GROUP_LABEL,
        required=False,
        empty_label='— group —',
        widget=PlainSelect,
    )
    assignee = ListedModelChoiceField(
        queryset=User.objects.none(),
        **PERSON_LABEL,
        required=False,
        empty_label='— anyone —',
        widget=PlainSelect,
    )
    priority = forms.TypedChoiceField(
        choices=[('', '— priority —'), *Priority.choices],
        coerce=int,
        required=False,
        empty_value=None,
        widget=PlainSelect,
    )
    reason = forms.CharField(required=False, max_length=300)
    pending_reason = forms.ChoiceField(
        choices=[('', '— waiting for —'), *PendingReason.choices],
        required=False,
        label='Waiting for',
        widget=PlainSelect,
    )
    note = forms.CharField(required=False, max_length=300, label='Note to the caller')
    resolution_code = forms.ChoiceField(
        choices=[('', '— resolution code —'), *ResolutionCode.choices],
        required=False,
        label='Resolution code',
        widget=PlainSelect,
    )
    resolution_notes = forms.CharField(required=False, max_length=20000, label='Resolution notes')
    body = forms.CharField(required=False, max_length=20000, label='Text')
    visibility = forms.ChoiceField(
        choices=COMMENT_VISIBILITY, required=False, initial='internal', label='Type', widget=PlainSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['group'].queryset = group_choices()
        self.fields['assignee'].queryset = staff_people()
        for name in ('operation', 'group', 'assignee', 'priority', 'pending_reason', 'resolution_code', 'visibility'):
            self.fields[name].widget.attrs['class'] = 'form-select-sm'

    def clean(self):
        cleaned = super().clean()
        operation = cleaned.get('operation')
        text = {name: (cleaned.get(name) or '').strip() for name in ('reason', 'resolution_notes', 'body')}
        cleaned.update(text)
        required = {
            'assign': {'group': 'Choose the group to assign to.'},
            'escalate': {'reason': 'A reason is required to escalate.'},
            'pend': {'pending_reason': 'Say what the tickets are waiting for.'},
            'complete': {
                'resolution_code': 'Choose the resolution code.',
                'resolution_notes': 'Resolution notes are required to complete.',
            },
            'comment': {'body': 'Write the comment or work note first.'},
            'priority': {
                'priority': 'Choose the priority.',
                'reason': 'A reason is required to override the priority.',
            },
        }
        for name, message in required.get(operation, {}).items():
            if cleaned.get(name) in (None, ''):
                self.add_error(name, message)
        return cleaned

    @property
    def internal(self) -> bool:
        return self.cleaned_data.get('visibility') != 'public'

    def service_kwargs(self) -> dict[str, Any]:
        """The input of the chosen operation, for each selected ticket, named as its service takes it."""
        kwargs = {keyword: self.cleaned_data[name] for name, keyword in self.INPUT[self.cleaned_data['operation']]}
        if self.cleaned_data['operation'] == 'comment':
            kwargs['internal'] = self.internal
        return kwargs

    def summary(self) -> str:
        """What happened to each ticket done, for the message listing them ("3 tickets escalated: …")."""
        data = self.cleaned_data
        return {
            'take': 'taken by you',
            'assign': f'assigned to {data["group"]}',
            'escalate': f'escalated to {data["group"]}' if data['group'] else 'escalated to the next tier',
            'pend': 'put on hold',
            'complete': 'completed',
            'comment': 'given a work note' if self.internal else 'commented',
            'priority': f'set to P{data["priority"]}',
        }[data['operation']]


# ------------------------------------------------------------------------------------------------ portal
# The requester's words for the urgencies and impacts they may choose; which ones they may choose is the service's
# rule (`REQUESTER_URGENCIES`, `REQUESTER_IMPACTS`), which holds for the API too.
PORTAL_URGENCY_WORDS = {
    Urgency.NEGOTIATED: 'Whenever you can: it does not stop me',
    Urgency.NORMAL: 'It is getting in my way',
    Urgency.URGENT: 'I can hardly work',
    Urgency.CRITICAL: 'I cannot work at all',
}
PORTAL_IMPACT_WORDS = {
    Impact.LOW: 'Just me',
    Impact.MEDIUM: 'My team or department',
    Impact.HIGH: 'Several teams or a whole site',
}
PORTAL_URGENCY = tuple((value, PORTAL_URGENCY_WORDS[value]) for value in REQUESTER_URGENCIES)
PORTAL_IMPACT = tuple((value, PORTAL_IMPACT_WORDS[value]) for value in REQUESTER_IMPACTS)
PORTAL_KINDS = (
    (TicketKind.INCIDENT, 'Something is broken or not working'),
    (TicketKind.CASE, 'A question or a request'),
)


class PortalTicketForm(forms.Form):
    """What a requester tells the desk, in their own words."""

    kind = forms.ChoiceField(
        choices=PORTAL_KINDS, widget=forms.RadioSelect, initial=TicketKind.INCIDENT, label='This is'
    )
    short_description = forms.CharField(
        max_length=200,
        label='What is wrong, in one line?',
        widget=forms.TextInput(attrs={'placeholder': 'e.g. I cannot print to the 2nd floor printer'}),
    )
    description = forms.CharField(
        required=False,
        label='Details',
        widget=forms.Textarea(attrs={'rows': 5}),
        help_text='What you were doing, what you expected, any error message you saw.',
    )
    service = ServiceChoiceField(
        queryset=service_queryset(), required=False, label='Which service is it about?', empty_label='I am not sure'
    )
    urgency = forms.ChoiceField(
        choices=PORTAL_URGENCY, initial=Urgency.NORMAL, label='How much does it affect your work?'
    )
    impact = forms.ChoiceField(choices=PORTAL_IMPACT, initial=Impact.LOW, label='Who is affected?')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = service_queryset()

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PortalCommentForm(forms.Form):
    body = forms.CharField(label='Add a comment', widget=forms.Textarea(attrs={'rows': 3}), max_length=20000)


class PortalAttachmentForm(forms.Form):
    file = forms.FileField(label='Attach a file')


class PortalRejectForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label='What is still wrong?',
        widget=forms.Textarea(attrs={'rows': 2}),
        help_text='Your request goes back to the team that worked on it.',
    )


# ------------------------------------------------------------------------------------------ reference data
class CategoryForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        choices=TicketKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label='Applies to',
        help_text='Leave both unticked for a category that applies to every ticket.',
    )

    class Meta:
        model = Category
        fields = ['name', 'parent', 'kinds', 'active']
        labels = {'parent': 'Subcategory of'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Category.objects.filter(parent=None).order_by('name')
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields['parent'].queryset = parents
        self.fields['parent'].empty_label = '— none: a top-level category —'

    def clean_kinds(self):
        return list(self.cleaned_data['kinds'])


class ResponseTemplateForm(forms.ModelForm):
    class Meta:
        model = ResponseTemplate
        fields = ['name', 'kind', 'text', 'active']
        widgets = {'text': forms.Textarea(attrs={'rows': 6})}
        help_texts = {
            'text': 'Placeholders: {caller_name}, {caller_first_name}, {number}, {short_description}, {agent_name}, '
            '{group}, {state}, {eta}.'
        }


class PriorityMatrixEntryForm(forms.ModelForm):
    class Meta:
        model = PriorityMatrixEntry
        fields = ['impact', 'urgency', 'priority']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields['impact'].disabled = True
            self.fields['urgency'].disabled = True


class PriorityMatrixForm(forms.Form):
    """The whole impact × urgency grid: one priority per cell, named `<impact>__<urgency>`."""

    def __init__(self, *args, cells: dict[tuple[str, str], int], **kwargs):
        super().__init__(*args, **kwargs)
        for impact in Impact.values:
            for urgency in Urgency.values:
                self.fields[self.field_name(impact, urgency)] = forms.TypedChoiceField(
                    choices=Priority.choices,
                    coerce=int,
                    initial=cells[(impact, urgency)],
                    label=f'Priority for impact {Impact(impact).label} and urgency {Urgency(urgency).label}',
                )

    @staticmethod
    def field_name(impact: str, urgency: str) -> str:
        return f'{impact}__{urgency}'

    def cells(self) -> list[tuple[str, str, int]]:
        return [
            (impact, urgency, self.cleaned_data[self.field_name(impact, urgency)])
            for impact in Impact.values
            for urgency in Urgency.values
        ]
