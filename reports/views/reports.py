"""Scheduled MTTR reports and the archive of reports generated (by schedule or on demand): generic pages."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)

from .. import exports, selectors, services
from ..filters import ReportFilterSet, ReportScheduleFilterSet
from ..forms import ReportEditForm, ReportForm, ReportScheduleForm

__all__ = [
    'ReportCreateView',
    'ReportCsvView',
    'ReportDeleteView',
    'ReportDetailView',
    'ReportEditView',
    'ReportListView',
    'ReportScheduleCreateView',
    'ReportScheduleDeleteView',
    'ReportScheduleDetailView',
    'ReportScheduleEditView',
    'ReportScheduleListView',
]


# ------------------------------------------------------------------------------------------------ schedules
class ReportScheduleListView(ObjectListView):
    queryset = selectors.schedule_list()
    filterset_class = ReportScheduleFilterSet
    title = 'Scheduled reports'
    columns = [
        'name',
        Column('owner', 'Manager', order_by='owner__last_name,owner__first_name'),
        'frequency',
        Column('slices_text', 'Slices', order_by=None),
        'next_run_at',
        'last_run_at',
        'active',
    ]


class ReportScheduleDetailView(ObjectDetailView):
    queryset = selectors.schedule_list()
    template_name = 'reports/reportschedule_detail.html'
    fields = [
        'owner',
        'frequency',
        Column('slices_text', 'Slices'),
        Column('filters_text', 'Filters'),
        'extra_recipients',
        'next_run_at',
        'last_run_at',
        'active',
    ]

    def get_extra_context(self, obj):
        return {'reports': list(selectors.report_list().filter(schedule=obj)[:20])}


class ReportScheduleCreateView(ObjectCreateView):
    queryset = selectors.schedule_list()
    form_class = ReportScheduleForm
    service = services.schedule_create

    def get_form(self, instance=None):
        form = super().get_form(instance)
        if not form.is_bound and self.request.user.has_role('manager'):
            form.initial.setdefault('owner', self.request.user.pk)
        return form


class ReportScheduleEditView(ObjectEditView):
    queryset = selectors.schedule_list()
    form_class = ReportScheduleForm
    service = services.schedule_update
    service_object_kwarg = 'schedule'


class ReportScheduleDeleteView(ObjectDeleteView):
    queryset = selectors.schedule_list()
    service = services.schedule_delete
    service_object_kwarg = 'schedule'


# -------------------------------------------------------------------------------------------------- reports
class ReportListView(ObjectListView):
    queryset = selectors.report_list()
    filterset_class = ReportFilterSet
    title = 'Report archive'
    columns = [
        'title',
        Column('period_start', 'From'),
        Column('period_end', 'To'),
        Column('schedule', order_by='schedule__name'),
        Column('created_at', 'Generated'),
        'sent_at',
    ]


class ReportDetailView(ObjectDetailView):
    queryset = selectors.report_list()
    template_name = 'reports/report_detail.html'
    fields = [
        'period_start',
        'period_end',
        'interval',
        Column('slices_text', 'Slices'),
        Column('filters_text', 'Filters'),
        'schedule',
        'created_by',
        'sent_at',
    ]

    def get_extra_context(self, obj):
        from ..choices import Breakdown

        summary = obj.summary or {}
        slices = [
            (Breakdown(d).label if d in Breakdown.values else d, rows)
            for d, rows in (summary.get('slices') or {}).items()
        ]
        return {'summary': summary, 'slice_tables': slices}


class ReportCreateView(ObjectCreateView):
    """Generate an MTTR report now (it is kept, and e-mailed when asked)."""

    queryset = selectors.report_list()
    form_class = ReportForm
    service = services.report_generate
    success_message = 'Report generated.'

    def get_form_kwargs(self):
        return {'user': self.request.user}


class ReportEditView(ObjectEditView):
    queryset = selectors.report_list()
    form_class = ReportEditForm
    service = services.report_update
    service_object_kwarg = 'report'


class ReportDeleteView(ObjectDeleteView):
    queryset = selectors.report_list()
    service = services.report_delete
    service_object_kwarg = 'report'


class ReportCsvView(ObjectDetailView):
    """The kept CSV of a report, exactly as it was e-mailed."""

    queryset = selectors.report_list()

    def get(self, request, *args, **kwargs):
        report = get_object_or_404(self.get_queryset(), pk=kwargs['pk'])
        return exports.csv_response(report.csv, report.csv_filename)
