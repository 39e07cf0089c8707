"""Forms of the major-incident pages: they validate and shape input; `major_incidents.services` writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

from cmdb.models import ConfigurationItem
from incidents.models import Ticket
from itsm.choices import Priority, TicketKind
from itsm.forms import ActionForm, CommentForm
from itsm.models import User
from itsm.roles import STAFF_ROLES
from problems.forms import ConfigurationItemsField, ServicesField, service_items

from . import selectors
from .actions import MANAGER_ROLES
from .choices import UpdateAudience, UpdateStatus
from .models import MajorIncident, UpdateTemplate

DATETIME_LOCAL = '%Y-%m-%dT%H:%M'
# Major incidents are P0 to P2: anything lower is worked as an ordinary incident.
MAJOR_PRIORITIES = [(p.value, p.label) for p in Priority if p.value <= Priority.P2]
MIN_UPDATE_INTERVAL_MINUTES = 5
TEAM_ROLES = ('incident_manager', 'tech_lead', 'communications_lead', 'service_owner', 'business_owner')


def datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={'type': 'datetime-local'}, format=DATETIME_LOCAL)


def active_staff():
    """People who may hold a role in a response: active, and holding a staff role (requesters never do)."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[str(role) for role in STAFF_ROLES])
        .distinct()
        .order_by('first_name', 'last_name', 'username')
    )


def incident_managers():
    return (
        User.objects.filter(is_active=True, groups__name__in=[str(role) for role in MANAGER_ROLES])
        .distinct()
        .order_by('first_name', 'last_name', 'username')
    )


class StaffChoiceField(forms.ModelChoiceField):
    default_error_messages = {
        'invalid_choice': 'Pick an active member of staff: requesters and inactive people cannot take a role.'
    }


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    default_error_messages = {
        'invalid_choice': 'Pick active members of staff: “%(value)s” is a requester, inactive, or unknown.',
        'invalid_pk_value': '“%(pk)s” is not a person.',
    }


def staff_choice(label: str, *, required: bool = False, help_text: str = '') -> StaffChoiceField:
    return StaffChoiceField(
        queryset=User.objects.none(), required=required, label=label, empty_label='— nobody —', help_text=help_text
    )


# ------------------------------------------------------------------------------------------- declare and edit
class MajorFormBase(forms.ModelForm):
    wide_fields = ('short_description', 'description', 'public_title')

    priority = forms.TypedChoiceField(
        choices=MAJOR_PRIORITIES, coerce=int, initial=Priority.P1, help_text='Sets the update cadence.'
    )
    services = ServicesField(queryset=ConfigurationItem.objects.none(), required=False)
    cis = ConfigurationItemsField(label='Configuration items')

    class Meta:
        model = MajorIncident
        fields: list[str] = []
        widgets = {
            'description': forms.Textarea(attrs={'rows': 4}),
            'short_description': forms.TextInput(attrs={'autocomplete': 'off'}),
            'outage_started_at': datetime_input(),
        }
        labels = {'short_description': 'Short description', 'outage_started_at': 'Outage started at'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['services'].queryset = service_items()
        if self.instance.pk and not self.is_bound:
            self.initial['cis'] = list(self.instance.cis.all())

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MajorDeclareForm(MajorFormBase):
    """Declare a major incident: directly, from an incident (`source_incident`, a number) or from a candidate."""

    incident_manager = staff_choice('Incident manager', help_text='Runs the response; you when left empty.')
    source_incident = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    candidate = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta(MajorFormBase.Meta):
        fields = [
            'short_description',
            'description',
            'priority',
            'severity',
            'service_impact',
            'public_title',
            'services',
            'cis',
            'incident_manager',
            'outage_started_at',
        ]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields['incident_manager'].queryset = incident_managers()
        self.fields['outage_started_at'].required = False
        self.fields['outage_started_at'].help_text = 'When the service went down; now when left empty.'

    def clean_source_incident(self):
        number = self.cleaned_data.get('source_incident', '').strip().upper()
        if not number:
            return None
        # Among the incidents the person may see: a security incident is "not found", as an unknown number.
        incident = Ticket.objects.visible_to(self.user).filter(number=number, kind=TicketKind.INCIDENT).first()
        if incident is None:
            raise forms.ValidationError(f'There is no incident {number}.')
        return incident

    def clean_candidate(self):
        from .models import MajorIncidentCandidate

        pk = self.cleaned_data.get('candidate')
        if pk is None:
            return None
        candidate = MajorIncidentCandidate.objects.filter(pk=pk).first()
        if candidate is None:
            raise forms.ValidationError('That candidate no longer exists.')
        return candidate

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            'short_description': data['short_description'],
            'description': data.get('description', ''),
            'priority': data['priority'],
            'severity': data['severity'],
            'service_impact': data['service_impact'],
            'public_title': data.get('public_title', ''),
            'services': list(data.get('services') or ()),
            'cis': list(data.get('cis') or ()),
            'source_incident': data.get('source_incident'),
            'candidate': data.get('candidate'),
            'incident_manager': data.get('incident_manager'),
        }
        if data.get('outage_started_at'):
            fields['outage_started_at'] = data['outage_started_at']
        return fields


def declare_initial(*, incident: Ticket | None = None, candidate=None) -> dict[str, Any]:
    """What the declare form shows first when declaring from an incident or a candidate."""
    if candidate is not None:
        incident = incident or candidate.incident
    if incident is None:
        return {}
    initial: dict[str, Any] = {
        'short_description': incident.short_description,
        'description': incident.description,
        # A P0 stays P0; anything else is worked as P1 (the declaring manager may lower it to P2).
        'priority': Priority.P0 if incident.priority == Priority.P0 else Priority.P1,
        'source_incident': incident.number,
        'outage_started_at': incident.opened_at,
    }
    services = [incident.service] if incident.service_id else []
    cis = [incident.ci] if incident.ci_id else []
    if candidate is not None:
        initial['candidate'] = candidate.pk
        services = [candidate.service] if candidate.service_id else services
        cis = [candidate.ci] if candidate.ci_id else cis
        first = min((i.opened_at for i in candidate.incidents.all()), default=None)
        if first is not None:
            initial['outage_started_at'] = first
    initial['services'] = [s.pk for s in services if s.is_service]
    initial['cis'] = [c for c in cis if not c.is_service]
    return initial


class MajorEditForm(MajorFormBase):
    """Descriptive fields, scope and cadence (the team and the stages move through their actions)."""

    update_interval_minutes = forms.IntegerField(
        label='Update every (minutes)',
        min_value=MIN_UPDATE_INTERVAL_MINUTES,
        max_value=settings.MAJOR_MAX_UPDATE_INTERVAL_MINUTES,
        help_text=f'Between {MIN_UPDATE_INTERVAL_MINUTES} minutes and a day.',
        error_messages={
            'min_value': f'Updates cannot be due more often than every {MIN_UPDATE_INTERVAL_MINUTES} minutes.',
            'max_value': 'Updates are due at least once a day (1440 minutes).',
        },
    )

    class Meta(MajorFormBase.Meta):
        fields = [
            'short_description',
            'description',
            'priority',
            'severity',
            'service_impact',
            'public_title',
            'services',
            'cis',
            'outage_started_at',
            'update_interval_minutes',
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.priority is not None and self.instance.priority > Priority.P2:
            self.fields['priority'].choices = [
                *MAJOR_PRIORITIES,
                (self.instance.priority, f'P{self.instance.priority}'),
            ]

    def service_fields(self) -> dict[str, Any]:
        fields = super().service_fields()
        fields['services'] = list(fields['services'] or ())
        return fields


# -------------------------------------------------------------------------------------------------- actions
class TeamForm(ActionForm):
    """The response team of domain §6: five people with one role each, and the support staff."""

    incident_manager = staff_choice('Incident manager', help_text='Runs the response.')
    tech_lead = staff_choice('Tech lead', help_text='Leads the technical fix.')
    communications_lead = staff_choice('Communications lead', help_text='Posts the updates on the cadence.')
    service_owner = staff_choice('Service owner', help_text='Validates the restored service.')
    business_owner = staff_choice('Business owner', help_text='Validates it for the business.')
    support_staff = StaffMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        label='Support staff',
        widget=forms.SelectMultiple(attrs={'size': 6}),
        help_text='Hold Ctrl (⌘ on a Mac) to pick several people.',
    )
    note = forms.CharField(required=False, max_length=300, label='Note')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = active_staff()
        for name in TEAM_ROLES:
            self.fields[name].queryset = staff
        self.fields['incident_manager'].queryset = incident_managers()
        self.fields['support_staff'].queryset = staff
        record = self.record
        if record is not None and not self.is_bound:
            for name in TEAM_ROLES:
                self.initial[name] = getattr(record, f'{name}_id')
            if self.initial['incident_manager'] is None and self.user is not None and self.user.is_authenticated:
                self.initial['incident_manager'] = self.user.pk
            self.initial['support_staff'] = [person.pk for person in record.support_staff.all()]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data['support_staff'] = list(data.get('support_staff') or ())
        return data


class ResolveForm(ActionForm):
    wide_fields = ('resolution', 'note')

    resolution = forms.CharField(
        widget=forms.Textarea(attrs={'rows': 3}),
        help_text='What restored the service. Each child incident is completed and its caller told this.',
    )
    note = forms.CharField(required=False, max_length=300, label='Note')


class TemplatePreviewSelect(forms.Select):
    """The template menu with its Preview button: htmx fetches the template filled for this record and swaps it into
    the subject and body fields (out of band, by their ids)."""

    def __init__(self, *args, preview_url: str = '', **kwargs):
        super().__init__(*args, **kwargs)
        self.preview_url = preview_url

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        if not self.preview_url:
            return select
        return format_html(
            '<div class="input-group">{}<button type="button" class="btn" hx-get="{}" hx-include="closest form" '
            'hx-vals=\'{{"field_id": "{}"}}\' hx-swap="none" data-testid="update-preview">Preview</button></div>',
            select,
            self.preview_url,
            (attrs or {}).get('id', ''),
        )


class UpdateForm(ActionForm):
    """An update: who it is for, where the response stands, and what it says (from a template, or written)."""

    wide_fields = ('template', 'subject', 'body')

    audience = forms.ChoiceField(choices=UpdateAudience.choices, initial=UpdateAudience.INTERNAL, label='Audience')
    status = forms.ChoiceField(choices=UpdateStatus.choices, initial=UpdateStatus.INVESTIGATING, label='Status')
    template = forms.ChoiceField(required=False, label='Template', help_text='Preview fills in the subject and text.')
    subject = forms.CharField(required=False, max_length=200, label='Subject')
    body = forms.CharField(
        label='Text',
        widget=forms.Textarea(attrs={'rows': 5}),
        max_length=20000,
        error_messages={'required': 'Write what the update says (or preview a template to start from).'},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        templates = list(UpdateTemplate.objects.filter(active=True).order_by('audience', 'name'))
        self.templates = {str(t.pk): t for t in templates}
        groups = []
        for audience in UpdateAudience:
            options = [(str(t.pk), t.name) for t in templates if t.audience == audience]
            if options:
                groups.append((audience.label, options))
        self.fields['template'].choices = [('', '— none —'), *groups]
        if self.record is not None and self.record.pk:
            url = reverse('major_incidents:update_preview', args=[self.record.number])
            self.fields['template'].widget = TemplatePreviewSelect(
                choices=self.fields['template'].choices, preview_url=url
            )

    def clean_template(self):
        value = self.cleaned_data.get('template')
        return self.templates.get(value) if value else None

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            'audience': data['audience'],
            'status': data['status'],
            'subject': data.get('subject', ''),
            'body': data['body'],
            'template': data.get('template'),
        }


class IncidentNumbersField(forms.CharField):
    """Incidents by number, separated by commas or spaces: `INC0001001, INC0001002`, among those `user` (set by
    the form) may see: a security incident is "not found" to others, as a number that does not exist."""

    user = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('required', False)
        kwargs.setdefault('max_length', 2000)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({'autocomplete': 'off', 'spellcheck': 'false', 'placeholder': 'INC0001001, …'})

    def clean(self, value):
        value = super().clean(value)
        numbers = [part.strip().upper() for part in (value or '').replace(',', ' ').split() if part.strip()]
        if not numbers:
            return []
        incidents = Ticket.objects.visible_to(self.user).filter(number__in=numbers, kind=TicketKind.INCIDENT)
        found = {t.number: t for t in incidents}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise forms.ValidationError(f'There is no incident {", ".join(unknown)}.', code='unknown')
        return list(dict.fromkeys(found[n] for n in numbers))


class LinkChildrenForm(ActionForm):
    """The proposed children (open incidents on the affected services since the outage began) as checkboxes, and
    any other incident by number."""

    wide_fields = ('proposed', 'others')

    proposed = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label='Proposed incidents'
    )
    others = IncidentNumbersField(label='Other incidents', help_text='Numbers, separated by commas.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['others'].user = self.user
        self.proposed_incidents = (
            list(selectors.proposed_children(self.record, user=self.user)) if self.record is not None else []
        )
        self.fields['proposed'].choices = [
            (t.number, f'{t.number} · {t.short_description}') for t in self.proposed_incidents
        ]
        if not self.proposed_incidents:
            self.fields['proposed'].help_text = 'No open incident on the affected services is waiting to be linked.'

    def clean(self):
        cleaned = super().clean()
        by_number = {t.number: t for t in self.proposed_incidents}
        chosen = [by_number[n] for n in cleaned.get('proposed') or () if n in by_number]
        chosen += [t for t in cleaned.get('others') or () if t not in chosen]
        if not chosen and not self.errors:
            raise forms.ValidationError('Pick at least one incident to link.', code='empty')
        cleaned['incidents'] = chosen
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        return {'incidents': self.cleaned_data['incidents']}


class HandOffForm(ActionForm):
    """Hand the fix to the owning team's system of record, with their estimate."""

    handoff_owner = forms.CharField(max_length=120, label='Owning team', help_text='The team that now owns the fix.')
    handoff_reference = forms.CharField(
        required=False, max_length=120, label='Their reference', help_text="The issue in that team's system of record."
    )
    handoff_estimate = forms.DateTimeField(
        required=False, widget=datetime_input(), label='Estimate', help_text='When they expect to have it fixed.'
    )
    note = forms.CharField(required=False, max_length=300, label='Note')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = self.record
        if record is not None and not self.is_bound:
            self.initial.update(
                handoff_owner=record.handoff_owner,
                handoff_reference=record.handoff_reference,
                handoff_estimate=record.handoff_estimate,
            )


# ------------------------------------------------------------------------------------------- conversation
class WorkNoteForm(CommentForm):
    """Work notes only: no requester is a party to a major incident (the public hears through public updates)."""

    VISIBILITY = (('internal', 'Internal work note'),)
    placeholder = 'Write a work note for the response team'


# ------------------------------------------------------------------------------------------- recipients
class RecipientForm(forms.Form):
    """Someone added by hand to the recipient list: an address, or a person (whose address is used)."""

    email = forms.EmailField(required=False, label='E-mail address')
    name = forms.CharField(required=False, max_length=150, label='Name')
    person = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label='Or a person')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['person'].queryset = (
            User.objects.filter(is_active=True).exclude(email='').order_by('first_name', 'last_name', 'username')
        )

    def clean(self):
        cleaned = super().clean()
        person = cleaned.get('person')
        if not cleaned.get('email') and person is None and not self.errors:
            raise forms.ValidationError('Give an e-mail address or pick a person.', code='empty')
        if person is not None and not cleaned.get('email'):
            cleaned['email'] = person.email
            cleaned['name'] = cleaned.get('name') or person.get_full_name()
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {'email': data['email'], 'name': data.get('name', ''), 'person': data.get('person')}


# ------------------------------------------------------------------------------------------- update templates
class UpdateTemplateForm(forms.ModelForm):
    wide_fields = ('subject', 'body')

    class Meta:
        model = UpdateTemplate
        fields = ['name', 'audience', 'status', 'subject', 'body', 'active']
        widgets = {'body': forms.Textarea(attrs={'rows': 8})}
        help_texts = {
            'body': 'Placeholders: {number}, {title}, {services}, {status}, {impact}, {next_update}, '
            '{incident_manager}, {handoff_owner}, {handoff_reference}, {handoff_estimate}.'
        }
