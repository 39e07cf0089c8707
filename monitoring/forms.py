import json

from django import forms

from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem
from itsm.choices import Role

from .models import AlertSource


class AlertSourceForm(forms.ModelForm):
    wide_fields = ('severity_map',)

    class Meta:
        model = AlertSource
        fields = [
            'name',
            'kind',
            'support_group',
            'service',
            'integration_user',
            'severity_map',
            'flap_window_minutes',
            'dedup_by',
            'active',
        ]
        widgets = {'severity_map': forms.Textarea(attrs={'rows': 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = ConfigurationItem.objects.filter(ci_class=CIClass.SERVICE).order_by('name')
        users = self.fields['integration_user'].queryset.filter(groups__name=Role.INTEGRATION).order_by('username')
        self.fields['integration_user'].queryset = users

    def clean_severity_map(self):
        value = self.cleaned_data['severity_map']
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise forms.ValidationError(f'Not JSON: {error}.') from None
        return value
