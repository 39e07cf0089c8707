from django import forms

from sla.records import kind_choices

from .choices import EventType
from .models import WebhookSubscription


class WebhookSubscriptionForm(forms.ModelForm):
    """Name, URL, events as checkboxes and an optional filter by record kind. Only administrators see the
    "allow private destinations" box; the service refuses it from anyone else anyway."""

    url = forms.URLField(label='URL', max_length=500, assume_scheme='https', help_text='Where each event is POSTed.')
    events = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)
    record_kinds = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, required=False, help_text='None ticked: every kind.'
    )

    class Meta:
        model = WebhookSubscription
        fields = ['name', 'url', 'events', 'record_kinds', 'active', 'allow_private_destination', 'security_incidents']

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['record_kinds'].choices = kind_choices()
        if user is None or not user.has_role('administrator'):
            del self.fields['allow_private_destination']
            del self.fields['security_incidents']

    def service_fields(self):
        return {name: self.cleaned_data[name] for name in self.fields}
