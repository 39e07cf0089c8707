"""Forms of the core pages and of every process record's page. They validate input; services do the writing.

A record action's form (`ActionForm`) takes the record it acts on and the person acting, and offers
`service_kwargs()`: what the action's service receives besides the record and the actor.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.db.models import Q
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import signin
from .choices import Role
from .models import SupportGroup, User

__all__ = (
    'ActionForm',
    'AssignForm',
    'AttachmentForm',
    'CommentForm',
    'EscalateForm',
    'NoInputForm',
    'NoteForm',
    'PasswordChangeForm',
    'PersonField',
    'ProfileForm',
    'ReasonForm',
    'SupportGroupForm',
    'UserCreateForm',
    'UserEditForm',
    'group_choices',
    'staff_people',
)

USER_FIELDS = ['first_name', 'last_name', 'username', 'email', 'phone', 'department', 'location', 'vip', 'is_active']


def _html_attrs(attrs: dict[str, Any]) -> str:
    """Attributes as `django/forms/widgets/attrs.html` writes them: `True` as a bare name, `False` left out."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f' {escape(name)}')
        elif value is not False:
            parts.append(f' {escape(name)}="{escape(value)}"')
    return ''.join(parts)


class PlainSelect(forms.Select):
    """`forms.Select` drawn in Python. Django renders every `<option>` through a template: a select of the desk's
    200 agents costs about 7 ms on each page that shows it; this writes the same HTML in a fraction of that."""

    def render(self, name, value, attrs=None, renderer=None):
        # From the choices themselves: `get_context` would first build a dict per option (`create_option`).
        widget_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            widget_attrs['multiple'] = True
        values = self.format_value(value)
        out = [f'<select name="{escape(name)}"{_html_attrs(widget_attrs)}>']
        has_selected = False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ''
            grouped = isinstance(option_label, list | tuple)
            if grouped and option_value:
                out.append(f'<optgroup label="{escape(option_value)}">')
            for subvalue, sublabel in option_label if grouped else ((option_value, option_label),):
                # As `ChoiceWidget.optgroups`: only the first matching option of a single select is selected.
                selected = (not has_selected or self.allow_multiple_selected) and str(subvalue) in values
                has_selected |= selected
                out.append(
                    f'<option value="{escape(subvalue)}"{" selected" if selected else ""}>{escape(sublabel)}</option>'
                )
            if grouped and option_value:
                out.append('</optgroup>')
        out.append('</select>')
        return mark_safe(''.join(out))


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """The options of a `ListedModelChoiceField`: one plain query of the columns its labels need, no instances.
    Django's iterator builds a whole instance per row, read through a server-side cursor (on PostgreSQL three
    statements) meant for lists too long to hold; a select shows every option at once anyway."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ('', self.field.empty_label)
        label, columns = self.field.option_label, self.field.label_fields
        for pk, *values in self.queryset.values_list('pk', *columns):
            yield (pk, label(*values))


class ListedModelChoiceField(forms.ModelChoiceField):
    """A `ModelChoiceField` whose options are `option_label(*row)` of `label_fields` read in one query
    (`option_label` must say what `str()` of an instance says). Validation reads the chosen row whole, as Django's
    does."""

    iterator = ListedChoiceIterator

    def __init__(self, queryset, *, label_fields: tuple[str, ...], option_label, **kwargs):
        self.label_fields, self.option_label = tuple(label_fields), option_label
        super().__init__(queryset, **kwargs)


GROUP_LABEL = {'label_fields': ('name',), 'option_label': str}  # `SupportGroup.__str__`
PERSON_LABEL = {'label_fields': ('first_name', 'last_name', 'username'), 'option_label': User.name_of}


def group_choices():
    """The support groups work can be handed to, lowest tier first."""
    return SupportGroup.objects.active().order_by('tier', 'name')


def staff_people():
    """People who can be given work: active members of an active support group."""
    # A semi-join on the memberships, not a join made DISTINCT over every column of the people (half the time with
    # 20,000 people on file).
    members = SupportGroup.members.through.objects.filter(supportgroup__active=True).values('user_id')
    return User.objects.filter(is_active=True, pk__in=members).order_by('first_name', 'last_name', 'username')


class PersonField(forms.CharField):
    """A person picked by username (or e-mail address) from a search box with suggestions (`datalist`: the id of
    the `<datalist>` that offers them)."""

    default_error_messages = {'unknown': 'Nobody is called “%(value)s”: pick a person from the suggestions.'}

    def __init__(self, *args, datalist: str = '', **kwargs):
        kwargs.setdefault('max_length', 254)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({'autocomplete': 'off', 'spellcheck': 'false'})
        if datalist:
            self.widget.attrs['list'] = datalist

    def prepare_value(self, value):
        if isinstance(value, User):
            return value.username
        if isinstance(value, int):
            return User.objects.filter(pk=value).values_list('username', flat=True).first() or value
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        person = User.objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True).first()
        if person is None:
            raise forms.ValidationError(self.error_messages['unknown'], code='unknown', params={'value': value})
        return person


class UserFormBase(forms.ModelForm):
    """A person's details and roles (checkboxes, one per role of `itsm.choices.Role`)."""

    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text='What this person may do. Requesters only raise and follow their own tickets.',
    )
    password_required = False

    wide_fields = ('roles',)

    class Meta:
        model = User
        fields = USER_FIELDS
        labels = {'vip': 'VIP', 'is_active': 'Active', 'email': 'E-mail'}
        help_texts = {'is_active': 'Inactive people cannot sign in; their names stay in every history.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['email'].required = True
        self.fields['password1'] = forms.CharField(
            label='Password' if self.password_required or not self.instance.pk else 'New password',
            required=False,
            strip=False,
            widget=forms.PasswordInput(attrs={'autocomplete': 'new-password'}, render_value=False),
            help_text=self.password_help(),
        )
        self.fields['password2'] = forms.CharField(
            label='Repeat password',
            required=False,
            strip=False,
            widget=forms.PasswordInput(attrs={'autocomplete': 'new-password'}, render_value=False),
        )

    def password_help(self) -> str:
        return ''

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get('password1'), cleaned.get('password2')
        if first and first != second:
            self.add_error('password2', 'The two passwords differ.')
        elif second and not first:
            self.add_error('password1', 'Enter the password here too.')
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # After the model fields are applied, so the similarity check compares against the new name and e-mail.
        password = self.cleaned_data.get('password1')
        if password and 'password1' not in self.errors and 'password2' not in self.errors:
            try:
                password_validation.validate_password(password, self.instance)
            except forms.ValidationError as error:
                self.add_error('password1', error)

    def service_fields(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in USER_FIELDS}
        data['roles'] = list(self.cleaned_data['roles'])
        if self.cleaned_data.get('password1'):
            data['password'] = self.cleaned_data['password1']
        return data


class UserCreateForm(UserFormBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['roles'].initial = [Role.REQUESTER]

    def password_help(self) -> str:
        return 'Leave empty for people who never sign in (callers who only e-mail or phone the desk).'


class UserEditForm(UserFormBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial['roles'] = sorted(self.instance.role_slugs())

    def password_help(self) -> str:
        return 'Leave empty to keep the current password.'


def time_zone_choices() -> list:
    """The desk's zone first, then the common zones, then every other IANA name."""
    from django.conf import settings

    from .timezones import all_zones, common_zones

    common = common_zones()
    others = [name for name in all_zones() if name not in common]
    return [
        ('', f"The desk's time zone ({settings.TIME_ZONE})"),
        ('Common time zones', [(name, name.replace('_', ' ')) for name in common]),
        ('All time zones', [(name, name.replace('_', ' ')) for name in others]),
    ]


class ProfileForm(forms.ModelForm):
    """What people set for themselves on their profile: the time zone every time is shown in."""

    class Meta:
        model = User
        fields = ['time_zone']
        labels = {'time_zone': 'Time zone'}
        help_texts = {'time_zone': 'Every time in the desk, and in the e-mails it sends you, is shown in this zone.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['time_zone'] = forms.ChoiceField(
            choices=time_zone_choices,
            required=False,
            label='Time zone',
            help_text=self._meta.help_texts['time_zone'],
            error_messages={'invalid_choice': '“%(value)s” is not a known time zone; pick one from the list.'},
        )

    def service_fields(self) -> dict[str, Any]:
        return {'time_zone': self.cleaned_data['time_zone']}


class SupportGroupForm(forms.ModelForm):
    """A support group: tier, manager, members and where escalations go."""

    wide_fields = ('email', 'active', 'security')

    class Meta:
        model = SupportGroup
        fields = [
            'name',
            'tier',
            'manager',
            'escalation_group',
            'email',
            'members',
            'description',
            'active',
            'security',
        ]
        widgets = {
            'description': forms.Textarea(attrs={'rows': 3}),
            'members': forms.SelectMultiple(attrs={'size': 10}),
        }
        help_texts = {'members': 'Hold Ctrl (⌘ on a Mac) to pick several people.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Inactive people are not offered, except those already in place (so saving does not drop them).
        offered = Q(is_active=True)
        if self.instance.pk:
            offered |= Q(pk__in=self.instance.members.values('pk')) | Q(pk=self.instance.manager_id)
        people = User.objects.filter(offered).order_by('first_name', 'last_name', 'username')
        self.fields['manager'].queryset = people
        self.fields['members'].queryset = people
        groups = SupportGroup.objects.order_by('tier', 'name')
        if self.instance.pk:
            groups = groups.exclude(pk=self.instance.pk)
        self.fields['escalation_group'].queryset = groups


class SignInForm(auth_forms.AuthenticationForm):
    """Django's sign-in form, through the guarded sign-in (`itsm.signin`): too many failures refuse it for a while."""

    def clean(self):
        username = self.cleaned_data.get('username')
        password = self.cleaned_data.get('password')
        if username is not None and password:
            self.user_cache, refused = signin.sign_in(self.request, username, password)
            if refused is not None:
                raise forms.ValidationError(refused.message, code='too_many_attempts')
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, new password twice), one field per row."""

    wide_fields = ('old_password', 'new_password1', 'new_password2')


# ------------------------------------------------------------------------------------------- process records
class ActionForm(forms.Form):
    """Input of one record action (`itsm.workflow.Action.form`); `service_kwargs()` is what its service receives."""

    wide_fields = ('reason',)

    def __init__(self, *args, record, user, **kwargs):
        self.record, self.user = record, user
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class NoInputForm(ActionForm):
    """Actions that need nothing but a click (accept, confirm)."""


class NoteForm(ActionForm):
    note = forms.CharField(required=False, max_length=300, label='Note')


class ReasonForm(ActionForm):
    reason = forms.CharField(max_length=300, label='Reason', widget=forms.Textarea(attrs={'rows': 2}))


class AssignForm(ActionForm):
    """Hand a record to a support group, and optionally to one of its members.

    `members_url` names the page that answers the person select for a group (`?group=<id>&field_id=...`); with it,
    picking a group narrows the people offered to its members.
    """

    members_url = ''

    group = forms.ModelChoiceField(queryset=SupportGroup.objects.none(), label='Group')
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label='Person', empty_label='— anyone in the group —'
    )
    reason = forms.CharField(required=False, max_length=300, label='Note', help_text='Kept in the history.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['group'].queryset = group_choices()
        self.fields['assignee'].queryset = staff_people()
        if self.members_url:
            person = self['assignee'].auto_id
            self.fields['group'].widget.attrs.update(
                {
                    'hx-get': f'{reverse(self.members_url)}?field_id={person}',
                    'hx-trigger': 'change',
                    'hx-target': f'#{person}',
                    'hx-swap': 'outerHTML',
                }
            )
        if not self.is_bound and self.record.assignment_group_id:
            self.initial.setdefault('group', self.record.assignment_group_id)


class EscalateForm(ActionForm):
    """Functional escalation: to a chosen group, or (left empty) the next tier of the record's group."""

    group = forms.ModelChoiceField(queryset=SupportGroup.objects.none(), required=False, label='To group')
    reason = forms.CharField(max_length=300, label='Reason', widget=forms.Textarea(attrs={'rows': 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = group_choices()
        if self.record.assignment_group_id:
            groups = groups.exclude(pk=self.record.assignment_group_id)
        self.fields['group'].queryset = groups
        current = self.record.assignment_group
        next_tier = current.escalation_group if current is not None else None
        self.fields['group'].empty_label = f'Next tier: {next_tier}' if next_tier else '— choose a group —'


class CommentForm(forms.Form):
    """A customer-visible comment or an internal work note on any record (`itsm.conversation.comment`)."""

    VISIBILITY = (('internal', 'Internal work note'), ('public', 'Comment to the requester'))
    placeholder = 'Write a work note or a comment'

    visibility = forms.ChoiceField(choices=(), initial='internal', widget=forms.RadioSelect, label='Type')
    body = forms.CharField(label='Text', widget=forms.Textarea(attrs={'rows': 4}), max_length=20000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['visibility'].choices = self.VISIBILITY

    def service_kwargs(self) -> dict[str, Any]:
        return {'body': self.cleaned_data['body'], 'internal': self.cleaned_data['visibility'] == 'internal'}

    def success_message(self, record) -> str:
        return 'Work note added.' if self.cleaned_data['visibility'] == 'internal' else 'Comment added.'


class AttachmentForm(forms.Form):
    """A file on any record (`itsm.conversation.attach`); internal files stay with the desk."""

    file = forms.FileField(label='File')
    internal = forms.BooleanField(required=False, label='Internal (not shown to requesters)')

    def service_kwargs(self) -> dict[str, Any]:
        return {'upload': self.cleaned_data['file'], 'public': not self.cleaned_data['internal']}

    def success_message(self, record) -> str:
        return f'{self.cleaned_data["file"].name} attached.'
