from django import forms
from django.contrib import admin

from itsm.admin import AuditedAdmin, ReadOnlyAdmin

from .models import InboundMessage, Mailbox


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text='Leave empty to keep the stored password. Better: name an environment variable below.',
    )

    class Meta:
        model = Mailbox
        fields = [
            'name',
            'address',
            'active',
            'host',
            'port',
            'security',
            'username',
            'password',
            'password_env',
            'folder',
            'after_processing',
            'move_to',
            'unknown_senders',
            'support_group',
            'service',
            'impact',
            'urgency',
        ]

    def clean_password(self):
        # The stored password is never sent to the browser; an empty field keeps it.
        return self.cleaned_data['password'] or (self.instance.password if self.instance.pk else '')


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    form = MailboxForm
    list_display = ('name', 'address', 'host', 'security', 'folder', 'after_processing', 'active', 'last_polled_at')
    list_filter = ('active', 'security', 'after_processing', 'unknown_senders')
    search_fields = ('name', 'address', 'host', 'username')
    raw_id_fields = ('support_group', 'service')
    readonly_fields = ('last_polled_at', 'last_error', 'created_at')
    fieldsets = (
        (None, {'fields': ('name', 'address', 'active')}),
        ('Server', {'fields': ('host', 'port', 'security', 'username', 'password', 'password_env', 'folder')}),
        ('Processing', {'fields': ('after_processing', 'move_to', 'unknown_senders')}),
        ('New tickets', {'fields': ('support_group', 'service', 'impact', 'urgency')}),
        ('State', {'fields': ('last_polled_at', 'last_error', 'created_at')}),
    )


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """The log of what came of each message: only the polling writes it."""

    list_display = ('received_at', 'mailbox', 'sender', 'subject', 'outcome', 'record_number')
    list_filter = ('outcome', 'mailbox')
    search_fields = ('sender', 'subject', 'message_id', 'record_number')
    list_select_related = ('mailbox',)
    date_hierarchy = 'received_at'
