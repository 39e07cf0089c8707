"""Forms of the hypercare pages: they validate and shape input; `hypercare.services` writes."""

from __future__ import annotations

from django import forms

from cmdb.models import ConfigurationItem
from itsm.choices import Role

from .models import HypercarePeriod, HypercareRule
from .services import MANAGING_ROLES

DATETIME = forms.DateTimeInput(attrs={'type': 'datetime-local'}, format='%Y-%m-%dT%H:%M')


def manageable_services(user):
    """Services `user` may put into hypercare: every one for change managers, their own for service owners."""
    services = ConfigurationItem.objects.services().order_by('name')
    if user is None or user.is_superuser or any(user.has_role(role) for role in MANAGING_ROLES):
        return services
    if user.has_role(Role.SERVICE_OWNER):
        return services.filter(owner=user)
    return services.none()


class HypercarePeriodForm(forms.ModelForm):
    """Start a period: the service, when it starts (empty: now) and ends, and why."""

    starts_at = forms.DateTimeField(required=False, widget=DATETIME, help_text='Empty: now.')
    ends_at = forms.DateTimeField(widget=DATETIME)

    class Meta:
        model = HypercarePeriod
        fields = ['service', 'starts_at', 'ends_at', 'reason']

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = manageable_services(user)

    def service_fields(self):
        return dict(self.cleaned_data)

    def _post_clean(self):
        # The service checks overlaps and times (and says which field is wrong); the model's own checks
        # would run before it with less to say.
        pass


class HypercarePeriodEditForm(forms.ModelForm):
    """Extend (or shorten) a period, or change its reason."""

    ends_at = forms.DateTimeField(widget=DATETIME)

    class Meta:
        model = HypercarePeriod
        fields = ['ends_at', 'reason']

    def service_fields(self):
        return dict(self.cleaned_data)

    def _post_clean(self):
        pass


class HypercarePeriodEndForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, help_text='Why hypercare ends early.')


class HypercareRuleForm(forms.ModelForm):
    class Meta:
        model = HypercareRule
        fields = ['name', 'change_type', 'change_model', 'service', 'duration_days', 'active']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = ConfigurationItem.objects.services().order_by('name')
