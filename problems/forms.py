"""Forms of the problem pages: they validate and shape input; `problems.services` writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from cmdb.models import ConfigurationItem
from incidents.models import Category
from itsm.forms import ActionForm, group_choices, staff_people
from itsm.models import User

from .actions import MANAGER_ROLES
from .choices import AnalysisMethod, RootCauseCategory
from .models import CategoryPriority, Problem


def problem_managers():
    return (
        User.objects.filter(is_active=True, groups__name__in=[str(role) for role in MANAGER_ROLES])
        .distinct()
        .order_by('last_name', 'first_name', 'username')
    )


def top_categories():
    return Category.objects.filter(parent=None, active=True).order_by('name')


def subcategories():
    return (
        Category.objects.filter(parent__isnull=False, active=True)
        .select_related('parent')
        .order_by('parent__name', 'name')
    )


def service_items():
    return ConfigurationItem.objects.services().order_by('name')


class SubcategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f'{obj.parent.name} › {obj.name}'


class ServicesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ConfigurationItemsField(forms.CharField):
    """Configuration items by number (or exact name), separated by commas: `CI0000101, CI0000102`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('required', False)
        kwargs.setdefault('max_length', 2000)
        kwargs.setdefault('help_text', 'Numbers (CI0000101) or exact names, separated by commas.')
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({'autocomplete': 'off', 'spellcheck': 'false', 'placeholder': 'CI0000101, …'})

    def prepare_value(self, value):
        if isinstance(value, str) or value is None:
            return value or ''
        items = list(value)
        if items and not isinstance(items[0], ConfigurationItem):
            items = list(ConfigurationItem.objects.filter(pk__in=items).order_by('number'))
        return ', '.join(item.number for item in items)

    def clean(self, value):
        value = super().clean(value)
        names = [part.strip() for part in (value or '').split(',') if part.strip()]
        found, unknown = [], []
        for name in names:
            item = ConfigurationItem.objects.filter(Q(number__iexact=name) | Q(name__iexact=name)).first()
            if item is None:
                unknown.append(name)
            elif item not in found:
                found.append(item)
        if unknown:
            raise forms.ValidationError(f'There is no configuration item “{", ".join(unknown)}”.', code='unknown')
        return found


class ProblemFormBase(forms.ModelForm):
    wide_fields = ('short_description',)

    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label='— none —')
    subcategory = SubcategoryField(queryset=Category.objects.none(), required=False, empty_label='— none —')
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label='— not yet —', help_text='A problem manager.'
    )
    services = ServicesField(queryset=ConfigurationItem.objects.none(), required=False)
    cis = ConfigurationItemsField(label='Configuration items')

    class Meta:
        model = Problem
        fields: list[str] = []
        widgets = {
            'description': forms.Textarea(attrs={'rows': 4}),
            'symptoms': forms.Textarea(attrs={'rows': 3}),
            'workaround': forms.Textarea(attrs={'rows': 3}),
            'short_description': forms.TextInput(attrs={'autocomplete': 'off'}),
        }
        labels = {'short_description': 'Short description'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['category'].queryset = top_categories()
        self.fields['subcategory'].queryset = subcategories()
        self.fields['owner'].queryset = problem_managers()
        self.fields['services'].queryset = service_items()
        if 'assignment_group' in self.fields:
            self.fields['assignment_group'].queryset = group_choices()
            self.fields['assignment_group'].empty_label = '— none —'
        if 'assignee' in self.fields:
            self.fields['assignee'].queryset = staff_people()
            self.fields['assignee'].empty_label = '— nobody —'
        if self.instance.pk and not self.is_bound:
            self.initial['cis'] = list(self.instance.cis.all())

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ProblemCreateForm(ProblemFormBase):
    """Log a problem: what it is, where it shows, who owns it."""

    class Meta(ProblemFormBase.Meta):
        fields = [
            'short_description',
            'description',
            'category',
            'subcategory',
            'services',
            'cis',
            'owner',
            'assignment_group',
            'symptoms',
            'workaround',
        ]


class ProblemEditForm(ProblemFormBase):
    """Descriptive fields and supplier details (the analysis is recorded through its action)."""

    class Meta(ProblemFormBase.Meta):
        fields = [
            'short_description',
            'description',
            'category',
            'subcategory',
            'services',
            'cis',
            'owner',
            'assignment_group',
            'assignee',
            'vendor',
            'vendor_reference',
        ]


# -------------------------------------------------------------------------------------------------- actions
class AssessForm(ActionForm):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), label='Owner', help_text='A problem manager.')
    assignment_group = forms.ModelChoiceField(
        queryset=group_choices(), required=False, label='Analysed by', empty_label='— no group —'
    )
    note = forms.CharField(required=False, max_length=300, label='Note')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['owner'].queryset = problem_managers()
        self.fields['assignment_group'].queryset = group_choices()
        if self.record is not None:
            self.fields['owner'].initial = self.record.owner_id or getattr(self.user, 'pk', None)
            self.fields['assignment_group'].initial = self.record.assignment_group_id


class AnalysisForm(ActionForm):
    """What the analysis found; fields left as they are keep their value."""

    wide_fields = ('symptoms', 'root_cause', 'contributing_factors', 'workaround')

    symptoms = forms.CharField(required=False, widget=forms.Textarea(attrs={'rows': 2}))
    root_cause = forms.CharField(required=False, widget=forms.Textarea(attrs={'rows': 3}), label='Root cause')
    root_cause_category = forms.ChoiceField(
        choices=[('', '—'), *RootCauseCategory.choices], required=False, label='Root-cause category'
    )
    contributing_factors = forms.CharField(
        required=False, widget=forms.Textarea(attrs={'rows': 2}), label='Contributing factors'
    )
    analysis_method = forms.ChoiceField(choices=[('', '—'), *AnalysisMethod.choices], required=False, label='Method')
    workaround = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={'rows': 2}),
        help_text='What restores service until the fix is in place.',
    )

    FIELDS = ('symptoms', 'root_cause', 'root_cause_category', 'contributing_factors', 'analysis_method', 'workaround')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None:
            for name in self.FIELDS:
                self.fields[name].initial = getattr(self.record, name)

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, '') for name in self.FIELDS}


class ResolveForm(ActionForm):
    wide_fields = ('resolution',)

    resolution = forms.CharField(
        widget=forms.Textarea(attrs={'rows': 3}), help_text='The permanent fix, and how it was verified.'
    )
    change_reference = forms.CharField(
        required=False, max_length=40, label='Change reference', help_text='The change that deployed the fix, if any.'
    )


class VendorWaitForm(ActionForm):
    vendor = forms.CharField(max_length=120, required=False, label='Supplier')
    vendor_reference = forms.CharField(max_length=120, required=False, label="Supplier's case number")
    note = forms.CharField(required=False, max_length=300, label='Note')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None:
            self.fields['vendor'].initial = self.record.vendor
            self.fields['vendor_reference'].initial = self.record.vendor_reference


# ------------------------------------------------------------------------------------- category priorities
class CategoryPriorityForm(forms.ModelForm):
    class Meta:
        model = CategoryPriority
        fields = ['category', 'impact', 'urgency']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['category'].queryset = Category.objects.filter(parent=None).order_by('name')
