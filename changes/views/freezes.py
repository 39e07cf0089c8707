"""Freeze (blackout) windows: the data the change manager keeps. Normal changes planned inside an active window are
refused at scheduling unless a change manager overrides it with a reason; standard and emergency changes are not
refused. A window with services only holds the changes touching one of them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.urls import path

from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    StaffOnlyMixin,
)

from .. import calendar
from ..filters import FreezeWindowFilterSet
from ..models import Change, FreezeWindow

__all__ = [
    'FreezeWindowCreateView',
    'FreezeWindowDeleteView',
    'FreezeWindowDetailView',
    'FreezeWindowEditView',
    'FreezeWindowForm',
    'FreezeWindowListView',
]

DATETIME_LOCAL = '%Y-%m-%dT%H:%M'
RULE = (
    'Normal changes planned inside an active window are refused at scheduling unless a change manager overrides it '
    'with a reason. Standard and emergency changes are not refused. Without services the window holds every change; '
    'with services, only the changes touching one of them.'
)


class FreezeWindowForm(forms.ModelForm):
    class Meta:
        model = FreezeWindow
        fields = ['name', 'starts_at', 'ends_at', 'reason', 'services', 'active']
        widgets = {
            'starts_at': forms.DateTimeInput(attrs={'type': 'datetime-local'}, format=DATETIME_LOCAL),
            'ends_at': forms.DateTimeInput(attrs={'type': 'datetime-local'}, format=DATETIME_LOCAL),
        }
        help_texts = {'services': 'Leave empty to freeze every change.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['services'].queryset = ConfigurationItem.objects.filter(ci_class=CIClass.SERVICE).order_by('name')

    def clean(self):
        data = super().clean()
        if data.get('starts_at') and data.get('ends_at') and data['ends_at'] <= data['starts_at']:
            self.add_error('ends_at', 'A freeze window ends after it starts.')
        return data

    def _post_clean(self):
        # The service checks the rule again; the model's constraint message would only repeat it less clearly.
        if not self.errors:
            super()._post_clean()


def freeze_window_list():
    return FreezeWindow.objects.prefetch_related('services').order_by('-starts_at', 'pk')


class FreezeWindowListView(StaffOnlyMixin, ObjectListView):
    queryset = freeze_window_list()
    filterset_class = FreezeWindowFilterSet
    columns = [
        Column('name', 'Name', linkify=True),
        'starts_at',
        'ends_at',
        Column('services', 'Services', order_by=None),
        'active',
    ]
    title = 'Freeze windows'


class FreezeWindowDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = freeze_window_list()
    template_name = 'changes/freezewindow_detail.html'
    fields = ['name', 'starts_at', 'ends_at', 'reason', 'services', 'active']

    def get_extra_context(self, obj) -> dict[str, Any]:
        changes = (
            Change.objects.filter(state__in=calendar.LIVE_STATES)
            .scheduled_between(obj.starts_at, obj.ends_at)
            .order_by('planned_start', 'pk')
        )
        if obj.services.all():
            ids = [s.pk for s in obj.services.all()]
            changes = changes.filter(Q(services__in=ids) | Q(cis__in=ids)).distinct()
        return {'rule': RULE, 'held_changes': list(changes[:100])}


class FreezeWindowCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = freeze_window_list()
    form_class = FreezeWindowForm
    template_name = 'changes/freezewindow_form.html'
    service = calendar.freeze_window_create
    success_message = 'Freeze window saved: normal changes planned inside it are refused at scheduling.'

    def form_context(self, form, obj=None):
        return {**super().form_context(form, obj), 'rule': RULE}


class FreezeWindowEditView(StaffOnlyMixin, ObjectEditView):
    queryset = freeze_window_list()
    form_class = FreezeWindowForm
    template_name = 'changes/freezewindow_form.html'
    service = calendar.freeze_window_update
    service_object_kwarg = 'window'
    success_message = 'Freeze window saved.'

    def form_context(self, form, obj=None):
        return {**super().form_context(form, obj), 'rule': RULE}


class FreezeWindowDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = freeze_window_list()
    service = calendar.freeze_window_delete
    service_object_kwarg = 'window'
    action_description = 'Changes planned inside it are no longer held by it.'


freeze_urls = [
    path('freezes/', FreezeWindowListView.as_view(), name='freezewindow_list'),
    path('freezes/add/', FreezeWindowCreateView.as_view(), name='freezewindow_add'),
    path('freezes/<int:pk>/', FreezeWindowDetailView.as_view(), name='freezewindow_detail'),
    path('freezes/<int:pk>/edit/', FreezeWindowEditView.as_view(), name='freezewindow_edit'),
    path('freezes/<int:pk>/delete/', FreezeWindowDeleteView.as_view(), name='freezewindow_delete'),
]
