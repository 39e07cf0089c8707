"""The public subscription form."""

from django import forms

from cmdb.models import ConfigurationItem


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.service_details.public_name or obj.name


class SubscribeForm(forms.Form):
    email = forms.EmailField(label='E-mail address', max_length=254)
    services = ServiceChoiceField(
        queryset=ConfigurationItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text='Leave all unticked to hear about every service.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['services'].queryset = (
            ConfigurationItem.objects.filter(service_details__public=True)
            .select_related('service_details')
            .order_by('name')
        )
