"""Update templates: the texts incident managers and administrators keep for major-incident updates (internal, to
the recipient list, public), with placeholders the update form fills for each record. Other staff read them."""

from __future__ import annotations

from typing import Any

import django_filters
from django.urls import path

from itsm.filters import TextSearchFilterSet
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    StaffOnlyMixin,
)

from ..choices import UpdateAudience, UpdateStatus
from ..forms import UpdateTemplateForm
from ..models import UpdateTemplate


class UpdateTemplateFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'subject', 'body')
    audience = django_filters.ChoiceFilter(choices=UpdateAudience.choices)
    status = django_filters.ChoiceFilter(choices=UpdateStatus.choices)

    class Meta:
        model = UpdateTemplate
        fields = ['audience', 'status', 'active']


class UpdateTemplateListView(StaffOnlyMixin, ObjectListView):
    model = UpdateTemplate
    filterset_class = UpdateTemplateFilterSet
    columns = [Column('name', linkify=True), 'audience', 'status', 'subject', 'active', Column('updated_at', 'Changed')]
    title = 'Update templates'


class UpdateTemplateDetailView(StaffOnlyMixin, ObjectDetailView):
    model = UpdateTemplate
    template_name = 'major_incidents/updatetemplate_detail.html'
    fields = ['name', 'audience', 'status', 'subject', 'active']

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {'placeholders': UpdateTemplateForm.Meta.help_texts['body']}


class UpdateTemplateCreateView(StaffOnlyMixin, ObjectCreateView):
    model = UpdateTemplate
    form_class = UpdateTemplateForm


class UpdateTemplateEditView(StaffOnlyMixin, ObjectEditView):
    model = UpdateTemplate
    form_class = UpdateTemplateForm


class UpdateTemplateDeleteView(StaffOnlyMixin, ObjectDeleteView):
    model = UpdateTemplate
    action_description = 'Updates already posted from it keep their text.'


template_urls = [
    path('templates/', UpdateTemplateListView.as_view(), name='updatetemplate_list'),
    path('templates/add/', UpdateTemplateCreateView.as_view(), name='updatetemplate_add'),
    path('templates/<int:pk>/', UpdateTemplateDetailView.as_view(), name='updatetemplate_detail'),
    path('templates/<int:pk>/edit/', UpdateTemplateEditView.as_view(), name='updatetemplate_edit'),
    path('templates/<int:pk>/delete/', UpdateTemplateDeleteView.as_view(), name='updatetemplate_delete'),
]
