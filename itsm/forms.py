"""Forms of the core pages. They validate input; the services in `itsm.services` do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.db.models import Q

from .choices import Role
from .models import SupportGroup, User

__all__ = ('PasswordChangeForm', 'SupportGroupForm', 'UserCreateForm', 'UserEditForm')

USER_FIELDS = ['first_name', 'last_name', 'username', 'email', 'phone', 'department', 'location', 'vip', 'is_active']


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


class SupportGroupForm(forms.ModelForm):
    """A support group: tier, manager, members and where escalations go."""

    wide_fields = ('email', 'active')

    class Meta:
        model = SupportGroup
        fields = ['name', 'tier', 'manager', 'escalation_group', 'email', 'members', 'description', 'active']
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


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, new password twice), one field per row."""

    wide_fields = ('old_password', 'new_password1', 'new_password2')
