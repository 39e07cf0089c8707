"""Monitoring pages: sources (administrators; the token is shown once, after create and rotate) and the alerts
received (everyone who works incidents)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from itsm.views.generic import (
    Column,
    ObjectActionView,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    StaffOnlyMixin,
)
from itsm.views.once import keep_for_next_page, take_once

from . import selectors, services
from .filters import AlertFilterSet, AlertSourceFilterSet
from .forms import AlertSourceForm
from .models import Alert, AlertSource


def _hand_over_token(request, source: AlertSource) -> None:
    """The new token is shown once, on the source's next page."""
    keep_for_next_page(request, f'monitoring-source:{source.pk}', source.token)


class AlertSourceListView(StaffOnlyMixin, ObjectListView):
    queryset = selectors.source_list()
    filterset_class = AlertSourceFilterSet
    columns = [
        Column('name', linkify=True),
        'kind',
        Column('token_prefix', 'Token starts'),
        'support_group',
        'service',
        Column('flap_window_minutes', 'Flap window (min)'),
        'active',
    ]
    title = 'Monitoring sources'


class AlertSourceDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = selectors.source_list()
    template_name = 'monitoring/alertsource_detail.html'
    fields = [
        'name',
        'kind',
        Column('token_prefix', 'Token starts'),
        'support_group',
        'service',
        'integration_user',
        Column('flap_window_minutes', 'Flap window (min)'),
        'dedup_by',
        'active',
    ]

    def get_extra_context(self, obj) -> dict[str, Any]:
        token = take_once(self.request, f'monitoring-source:{obj.pk}')
        endpoint = 'api:alertmanager-webhook' if obj.kind == 'alertmanager' else 'api:events'
        return {
            'new_token': token,
            'endpoint': self.request.build_absolute_uri(reverse(endpoint)),
            'recent_alerts': list(selectors.alert_list().filter(source=obj)[:10]),
            'rotate_url': reverse('monitoring:alertsource_rotate', args=[obj.pk]),
        }


class AlertSourceCreateView(StaffOnlyMixin, ObjectCreateView):
    model = AlertSource
    form_class = AlertSourceForm
    service = services.source_create
    success_message = 'Source created. Copy its token now: it is shown only once.'

    def save(self, form):
        source = super().save(form)
        _hand_over_token(self.request, source)
        return source


class AlertSourceEditView(StaffOnlyMixin, ObjectEditView):
    model = AlertSource
    form_class = AlertSourceForm
    service = services.source_update


class AlertSourceDeleteView(StaffOnlyMixin, ObjectDeleteView):
    model = AlertSource
    service = services.source_delete
    action_description = 'Its alerts go with it; the incidents they opened stay.'


class AlertSourceRotateView(StaffOnlyMixin, ObjectActionView):
    model = AlertSource
    service = services.source_rotate_token
    action_label = 'Rotate token'
    action_description = 'A new token replaces the current one, which stops working at once.'
    button_class = 'btn-warning'

    def post(self, request, *args, **kwargs):
        source = self.perform(self.get_object())
        _hand_over_token(request, source)
        messages.success(request, 'Token rotated. Copy the new token now: it is shown only once.')
        return HttpResponseRedirect(source.get_absolute_url())


class AlertListView(StaffOnlyMixin, ObjectListView):
    queryset = selectors.alert_list()
    filterset_class = AlertFilterSet
    columns = [
        Column('summary', linkify=True),
        'source',
        'status',
        'severity',
        Column('incident', 'Incident', order_by='incident__number'),
        Column('event_count', 'Events'),
        Column('flap_count', 'Flaps', optional=True),
        Column('last_received_at', 'Last received'),
    ]
    title = 'Monitoring alerts'


class AlertDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = selectors.alert_list()
    template_name = 'monitoring/alert_detail.html'
    fields = [
        'source',
        'dedup_key',
        'incident',
        'status',
        'severity',
        Column('event_count', 'Events'),
        Column('flap_count', 'Flaps'),
        'first_received_at',
        'last_received_at',
        'acknowledged_at',
        'resolved_at',
    ]

    def get_timeline(self, obj):
        return []


__all__ = ['Alert']
