"""My API tokens: list them, make one (its key shown once, on the page the form leads to) and revoke one.

Every signed-in person has this page, requesters included: the tokens listed and revoked are always their own, so
someone else's token is a 404.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from itsm import tokens
from itsm.audit import Actor

from .generic import add_service_errors
from .once import keep_for_next_page, take_once


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text='What it is for, e.g. "Monitoring bridge" or "My scripts".')
    days = forms.IntegerField(
        label='Lifetime in days',
        min_value=1,
        help_text='The token stops working after this many days.',
    )
    read_only = forms.BooleanField(required=False, label='Read-only (GET only: it cannot change anything)')
    apps = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label='Limit to these parts of the desk',
        help_text='None ticked: every part you may use.',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['days'].initial = settings.API_TOKEN_DEFAULT_DAYS
        self.fields['days'].widget.attrs['max'] = settings.API_TOKEN_MAX_DAYS
        self.fields['apps'].choices = [(label, label) for label in tokens.app_choices()]

    def clean_days(self) -> int:
        days = self.cleaned_data['days']
        if days > settings.API_TOKEN_MAX_DAYS:
            raise ValidationError(f'A token lives at most {settings.API_TOKEN_MAX_DAYS} days.')
        return days

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            'name': data['name'],
            'read_only': data['read_only'],
            'apps': data['apps'],
            'expires_at': timezone.now() + dt.timedelta(days=data['days']),
        }


@login_required
def token_list(request):
    """My tokens, newest first, and the form to make one. A successful POST redirects here (a reload never makes
    a second token) and the new key is shown this once."""
    form = ApiTokenForm(request.POST if request.method == 'POST' else None)
    if request.method == 'POST' and form.is_valid():
        try:
            created, key = tokens.token_create(
                user=request.user, actor=Actor.from_request(request), **form.service_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            keep_for_next_page(request, 'api-token', f'{created.pk}:{key}')
            return redirect('itsm:token_list')
    mine = list(tokens.tokens_of(request.user))
    created = key = None
    handed = take_once(request, 'api-token')
    if handed:
        pk, key = handed.split(':', 1)
        created = next((token for token in mine if str(token.pk) == pk), None)
        key = key if created is not None else None
    context = {
        'form': form,
        'tokens': mine,
        'created': created,
        'key': key,
        'now': timezone.now(),
    }
    response = render(request, 'itsm/tokens.html', context)
    if key:
        response['Cache-Control'] = 'no-store'  # the key must not stay in any cache
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(tokens.tokens_of(request.user), pk=pk)
    tokens.token_revoke(token=token, actor=Actor.from_request(request))
    messages.success(request, f'Token "{token.name}" ({token.prefix}) revoked: it no longer works.')
    return redirect('itsm:token_list')
