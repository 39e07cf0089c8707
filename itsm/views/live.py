"""Live pages: "has anything changed since the version I was rendered with?", in one indexed query.

A page that shows records (a record, a queue, a dashboard) includes `includes/_live.html` with its scope: a model
(`incidents.ticket`) or one record of it (`object=`). The include writes the scope and the version the page was
rendered with; `static/pitcrew/live.js` asks `GET /live/?scope=…[&id=…]&since=<version>` every few seconds while the
page is visible. The answer is 204 (no body) while nothing changed, else 200 with the new version, and only then
does the page fetch itself again and swap the regions it named (or reload, for a dashboard).

The version is the newest timeline entry of the scope: every write of a service records one (`itsm.audit`), so a
change made by anyone through any channel (page, API, e-mail, a worker) moves it. For a whole model it is found by
walking the timeline's primary key backwards; for one record, by the timeline's (content type, record, time)
index, together with the record's `updated_at`. Polling was chosen over server-sent events because the web
processes are synchronous gunicorn workers (a held-open stream would occupy a worker per open page) and the
default database is SQLite, which has no notification channel to listen to.
"""

from __future__ import annotations

from django import template
from django.apps import apps
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views import View

from itsm.models import TimelineEntry
from itsm.permissions import user_can


def scope_model(label: str):
    """The model a page's scope names (`app_label.model_name`), or None."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def model_version(model) -> str:
    """The newest timeline entry of any record of `model` ('0' before the first)."""
    content_type = ContentType.objects.get_for_model(model)
    newest = TimelineEntry.objects.filter(content_type=content_type).order_by('-pk').values_list('pk', flat=True)
    return str(newest.first() or 0)


def record_version(model, pk: int, user) -> str | None:
    """The newest timeline entry of one record and its last save, if `user` may see it (else None)."""
    content_type = ContentType.objects.get_for_model(model)
    records = model._default_manager.all()
    if hasattr(records, 'visible_to'):
        records = records.visible_to(user)
    newest = TimelineEntry.objects.filter(content_type=content_type, object_id=OuterRef('pk')).order_by('-at', '-pk')
    row = records.filter(pk=pk).annotate(newest=Subquery(newest.values('pk')[:1]))
    fields = ['newest', 'updated_at'] if any(f.name == 'updated_at' for f in model._meta.fields) else ['newest']
    found = row.values_list(*fields).first()
    if found is None:
        return None
    newest_pk, *saved = found
    return _record_version_text(newest_pk, saved[0] if saved else None)


def _record_version_text(newest_pk: int | None, updated_at) -> str:
    stamp = f'.{updated_at.timestamp():.6f}' if updated_at is not None else ''
    return f'{newest_pk or 0}{stamp}'


def shown_record_version(record, timeline) -> tuple[str, int, str]:
    """What `record_version` would answer for the record as a page shows it, from the record and its whole
    timeline already read (no query): with the scope and the record's id, for the page's context (`live_shown`)."""
    newest = max(timeline, key=lambda entry: (entry.at, entry.pk), default=None)
    updated_at = getattr(record, 'updated_at', None)
    version = _record_version_text(newest.pk if newest is not None else None, updated_at)
    return record._meta.label_lower, record.pk, version


def version_for(user, label: str, pk: str | None = None) -> str:
    """The version of a scope, for the include and the endpoint alike. Raises 400/403/404 as the endpoint answers."""
    model = scope_model(label)
    if model is None:
        raise ValueError(f'Unknown scope "{label}".')
    if not user_can(user, model, 'view'):
        raise PermissionDenied
    if pk in (None, ''):
        if user.is_requester_only:
            raise PermissionDenied  # requesters follow their own records only
        return model_version(model)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ValueError('"id" must be a number.') from None
    version = record_version(model, pk, user)
    if version is None:
        raise Http404('No such record.')
    return version


register = template.Library()  # `{% load live %}` (settings.TEMPLATES libraries)


@register.simple_tag(takes_context=True)
def live_version(context, scope: str, pk=None) -> str:
    """The version the page is rendered with ('' where the person may not follow the scope: nothing polls)."""
    request = context.get('request')
    user = getattr(request, 'user', None)
    if user is None or not user.is_authenticated:
        return ''
    # A record's page gives the version of what it shows (`shown_record_version`); the person's right to follow
    # the scope is still asked.
    shown = context.get('live_shown')
    if shown is not None and shown[:2] == (scope, pk):
        model = scope_model(scope)
        return shown[2] if model is not None and user_can(user, model, 'view') else ''
    try:
        return version_for(user, scope, pk)
    except (ValueError, PermissionDenied, Http404):
        return ''


@register.simple_tag
def live_interval() -> int:
    """Seconds between two polls of an open page (`LIVE_POLL_SECONDS`, 10 by default)."""
    return int(getattr(settings, 'LIVE_POLL_SECONDS', 10))


class LiveView(LoginRequiredMixin, View):
    """`GET /live/?scope=incidents.ticket[&id=42]&since=<version>`: 204 while unchanged, else 200 and the version."""

    raise_exception = True  # a lost session answers 403 to the poll instead of a login page

    def get(self, request):
        try:
            version = version_for(request.user, request.GET.get('scope', ''), request.GET.get('id'))
        except ValueError as error:
            return HttpResponseBadRequest(str(error))
        if version == request.GET.get('since'):
            return HttpResponse(status=204)
        response = JsonResponse({'version': version})
        response['Cache-Control'] = 'no-store'
        return response
