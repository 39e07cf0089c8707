"""Forms of the CMDB pages. They shape input; `cmdb.services` validates the rules and writes."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from itsm.models import SupportGroup, User

from . import schema
from .choices import CIClass, CIStatus, Environment
from .models import ConfigurationItem, RaciAssignment, Relationship, Service

__all__ = ['ConfigurationItemForm', 'ImportForm', 'RaciAssignmentForm', 'RelationshipForm', 'ServiceForm']

ATTRIBUTE_FIELD_PREFIX = 'attr_'
CHANGE_REFERENCE_HELP = 'The approved change covering this edit (CHG0000123). Needed for production CIs.'


def _people():
    return User.objects.filter(is_active=True).order_by('first_name', 'last_name', 'username')


def _attribute_field(attribute: schema.Attribute) -> forms.Field:
    options: dict[str, Any] = {'required': attribute.required, 'label': attribute.label, 'help_text': attribute.help}
    kind = attribute.type
    if kind == schema.INTEGER:
        return forms.IntegerField(min_value=attribute.min, max_value=attribute.max, **options)
    if kind == schema.NUMBER:
        return forms.FloatField(min_value=attribute.min, max_value=attribute.max, **options)
    if kind == schema.BOOLEAN:
        options.pop('required')
        return forms.NullBooleanField(required=False, **options)
    if kind == schema.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={'type': 'date'}), **options)
    if kind == schema.URL:
        return forms.URLField(assume_scheme='https', **options)
    if kind == schema.CHOICE:
        return forms.ChoiceField(choices=[('', '—'), *[(c, c.replace('_', ' ')) for c in attribute.choices]], **options)
    return forms.CharField(max_length=500, **options)


class ConfigurationItemForm(forms.ModelForm):
    """A CI with one input per attribute of its class; the add page swaps them when the class changes."""

    change_reference = forms.CharField(max_length=20, required=False, help_text=CHANGE_REFERENCE_HELP)

    class Meta:
        model = ConfigurationItem
        fields = [
            'name',
            'ci_class',
            'status',
            'environment',
            'owner',
            'support_group',
            'location',
            'vendor',
            'version',
            'description',
        ]
        widgets = {'description': forms.Textarea(attrs={'rows': 3})}

    def __init__(self, *args, ci_class: str | None = None, attributes_url: str = '', **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['owner'].queryset = _people()
        self.fields['support_group'].queryset = SupportGroup.objects.active()
        editing = self.instance.pk is not None
        if editing:
            # Services keep their class; other CIs may be reclassified (their attributes are checked again).
            if self.instance.is_service:
                self.fields['ci_class'].disabled = True
            else:
                self.fields['ci_class'].choices = [c for c in CIClass.choices if c[0] != CIClass.SERVICE]
        else:
            if not settings.CMDB_REQUIRE_CHANGE_FOR_PRODUCTION:
                del self.fields['change_reference']  # only a production CI created under control needs one
            # Services are created from the services page, with their details.
            self.fields['ci_class'].choices = [('', '—')] + [c for c in CIClass.choices if c[0] != CIClass.SERVICE]
        self.ci_class = self.data.get('ci_class') or ci_class or self.instance.ci_class or ''
        stored = self.instance.attributes if editing and self.ci_class == self.instance.ci_class else {}
        for attribute in schema.attributes_for(self.ci_class):
            name = f'{ATTRIBUTE_FIELD_PREFIX}{attribute.name}'
            self.fields[name] = _attribute_field(attribute)
            if attribute.name in (stored or {}):
                self.fields[name].initial = stored[attribute.name]
        if ci_class and not self.is_bound:
            self.fields['ci_class'].initial = ci_class
        if attributes_url:
            # Changing the class swaps in that class's attribute inputs (the page's #ci-attributes part).
            self.fields['ci_class'].widget.attrs.update(
                {
                    'hx-get': attributes_url,
                    'hx-target': '#ci-attributes',
                    'hx-select': '#ci-attributes',
                    'hx-swap': 'outerHTML',
                    'hx-trigger': 'change',
                }
            )

    @property
    def ci_class_label(self) -> str:
        return str(dict(CIClass.choices).get(self.ci_class, '')).lower()

    def main_part(self) -> SimpleNamespace:
        """The common fields, shaped like a form for `includes/_form.html`."""
        fields = [self[name] for name in self.fields if not name.startswith(ATTRIBUTE_FIELD_PREFIX)]
        return SimpleNamespace(
            visible_fields=fields, hidden_fields=self.hidden_fields(), non_field_errors=self.non_field_errors()
        )

    def attribute_part(self) -> SimpleNamespace:
        """The class's attribute fields, likewise."""
        fields = [self[name] for name in self.fields if name.startswith(ATTRIBUTE_FIELD_PREFIX)]
        return SimpleNamespace(visible_fields=fields, hidden_fields=[], non_field_errors=[])

    def _post_clean(self):
        # Attributes come from the attribute inputs, not the model field, so the model checks what was typed.
        self.instance.attributes = self.collected_attributes()
        super()._post_clean()

    def _update_errors(self, errors):
        # The model names a bad attribute first in each message ("cpu_count: must be ..."): show it by its input.
        if hasattr(errors, 'error_dict') and 'attributes' in errors.error_dict:
            for message in ValidationError(errors.error_dict.pop('attributes')).messages:
                name = f'{ATTRIBUTE_FIELD_PREFIX}{message.split(":", 1)[0]}'
                if name in self.fields:
                    if name not in self.errors:  # the input's own check already said what is wrong
                        self.add_error(name, message.split(':', 1)[1].strip().capitalize())
                else:
                    self.add_error(None, f'Attributes: {message}')
            if not errors.error_dict:
                return
        super()._update_errors(errors)

    def collected_attributes(self) -> dict[str, Any]:
        values = {}
        for name, value in self.cleaned_data.items():
            if not name.startswith(ATTRIBUTE_FIELD_PREFIX) or value in (None, ''):
                continue
            values[name.removeprefix(ATTRIBUTE_FIELD_PREFIX)] = (
                value.isoformat() if isinstance(value, dt.date) else value
            )
        return values

    def service_fields(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        if self.instance.pk and self.instance.is_service:
            data.pop('ci_class', None)
        data['attributes'] = self.collected_attributes()
        if 'change_reference' in self.fields:
            data['change_reference'] = self.cleaned_data.get('change_reference', '')
        return data


class ServiceForm(forms.ModelForm):
    """A service: its CI's name, owner, group and environment, and its details."""

    name = forms.CharField(max_length=200)
    service_owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    support_group = forms.ModelChoiceField(queryset=SupportGroup.objects.none(), required=False)
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    ci_status = forms.ChoiceField(label='Lifecycle status', choices=CIStatus.choices, initial=CIStatus.IN_PRODUCTION)
    description = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False)
    change_reference = forms.CharField(max_length=20, required=False, help_text=CHANGE_REFERENCE_HELP)

    class Meta:
        model = Service
        fields = ['kind', 'status', 'criticality', 'business_owner', 'public', 'public_name', 'announce_list']
        labels = {'status': 'Service status'}
        widgets = {'announce_list': forms.Textarea(attrs={'rows': 2})}

    field_order = [
        'name',
        'kind',
        'status',
        'criticality',
        'service_owner',
        'business_owner',
        'support_group',
        'environment',
        'ci_status',
        'description',
        'public',
        'public_name',
        'announce_list',
        'change_reference',
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service_owner'].queryset = _people()
        self.fields['business_owner'].queryset = _people()
        self.fields['support_group'].queryset = SupportGroup.objects.active()
        if self.instance.pk:
            ci = self.instance.ci
            self.initial.update(
                name=ci.name,
                description=ci.description,
                service_owner=ci.owner_id,
                support_group=ci.support_group_id,
                environment=ci.environment,
                ci_status=ci.status,
            )
        elif not settings.CMDB_REQUIRE_CHANGE_FOR_PRODUCTION:
            del self.fields['change_reference']  # only a production service created under control needs one
        self.order_fields(self.field_order)

    def service_fields(self) -> dict[str, Any]:
        names = [
            'name',
            'description',
            'kind',
            'status',
            'criticality',
            'service_owner',
            'business_owner',
            'support_group',
            'environment',
            'ci_status',
            'public',
            'public_name',
            'announce_list',
        ]
        data = {name: self.cleaned_data[name] for name in names}
        if 'change_reference' in self.fields:
            data['change_reference'] = self.cleaned_data.get('change_reference', '')
        return data


class CIChoiceField(forms.ModelChoiceField):
    """A CI typed as its number (any letter case): lists of every CI would not fit in a select."""

    widget = forms.TextInput(attrs={'placeholder': 'CI0000101', 'autocomplete': 'off'})
    default_error_messages = {'invalid_choice': 'No CI with that number.'}

    def __init__(self, **kwargs):
        super().__init__(queryset=ConfigurationItem.objects.all(), to_field_name='number', **kwargs)

    def to_python(self, value):
        return super().to_python(value.strip().upper() if isinstance(value, str) else value)

    def prepare_value(self, value):
        if isinstance(value, int):
            return ConfigurationItem.objects.filter(pk=value).values_list('number', flat=True).first() or value
        return super().prepare_value(value)


class RelationshipForm(forms.ModelForm):
    source = CIChoiceField(help_text='The CI that depends on the target.')
    target = CIChoiceField(help_text='The CI the source depends on.')
    change_reference = forms.CharField(max_length=20, required=False, help_text=CHANGE_REFERENCE_HELP)

    class Meta:
        model = Relationship
        fields = ['source', 'type', 'target', 'description']

    def service_fields(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data['change_reference'] = self.cleaned_data.get('change_reference', '')
        return data


class RaciAssignmentForm(forms.ModelForm):
    class Meta:
        model = RaciAssignment
        fields = ['service', 'activity', 'role', 'person', 'support_group', 'notes']
        help_texts = {'role': 'R does the work, A owns the outcome (one per activity), C is asked, I is told.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = Service.objects.select_related('ci').order_by('ci__name')
        self.fields['service'].label_from_instance = lambda service: f'{service.ci.name} ({service.ci.number})'
        self.fields['person'].queryset = _people()
        self.fields['support_group'].queryset = SupportGroup.objects.active()

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ImportForm(forms.Form):
    cis = forms.FileField(
        label='Configuration items (CSV)',
        required=False,
        help_text='Columns: class, name, status, environment, owner, support_group, location, vendor, version, '
        'description and attr.<attribute>. Matched on class and name.',
    )
    relationships = forms.FileField(
        label='Relationships (CSV)',
        required=False,
        help_text='Columns: source, type, target, description. Ends by number (CI0000101) or class:name.',
    )
    dry_run = forms.BooleanField(label='Dry run: report what would change, keep nothing', required=False, initial=True)
    change_reference = forms.CharField(max_length=20, required=False, help_text=CHANGE_REFERENCE_HELP)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get('cis') and not cleaned.get('relationships'):
            raise forms.ValidationError('Choose a CSV file of CIs, of relationships, or both.')
        return cleaned
