from django import forms

from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem
from itsm.choices import Role

from .choices import default_severity_map
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
        self.fields['integration_user'].help_text = 'Left empty, the source gets an integration user of its own.'
        self.fields['severity_map'].required = False
        self.fields['severity_map'].help_text += ' Left empty: critical P1, error P2, warning P3, info P4.'

    def clean_severity_map(self):
        return self.cleaned_data['severity_map'] or default_severity_map()
