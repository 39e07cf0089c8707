"""Service level pages: agreements and calendars (CRUD), the SLA monitor (every clock, nearest due first), the
announced warnings and breaches, and clock pauses. Thin subclasses of the generic pages."""

from __future__ import annotations

from django.db.models import Count, F, Q

from itsm.records import without_hidden_records
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)

from . import selectors, services
from .filters import (
    BusinessCalendarFilterSet,
    ClockEventFilterSet,
    ClockPauseFilterSet,
    OperationalLevelAgreementFilterSet,
    ServiceLevelAgreementFilterSet,
    SlaClockFilterSet,
    UnderpinningContractFilterSet,
)
from .forms import (
    BusinessCalendarForm,
    OperationalLevelAgreementForm,
    ServiceLevelAgreementForm,
    UnderpinningContractForm,
)

__all__ = [
    'BusinessCalendarCreateView',
    'BusinessCalendarDeleteView',
    'BusinessCalendarDetailView',
    'BusinessCalendarEditView',
    'BusinessCalendarListView',
    'ClockEventDetailView',
    'ClockEventListView',
    'ClockPauseDetailView',
    'ClockPauseListView',
    'OperationalLevelAgreementCreateView',
    'OperationalLevelAgreementDeleteView',
    'OperationalLevelAgreementDetailView',
    'OperationalLevelAgreementEditView',
    'OperationalLevelAgreementListView',
    'ServiceLevelAgreementCreateView',
    'ServiceLevelAgreementDeleteView',
    'ServiceLevelAgreementDetailView',
    'ServiceLevelAgreementEditView',
    'ServiceLevelAgreementListView',
    'SlaClockDetailView',
    'SlaClockListView',
    'UnderpinningContractCreateView',
    'UnderpinningContractDeleteView',
    'UnderpinningContractDetailView',
    'UnderpinningContractEditView',
    'UnderpinningContractListView',
]

PRIORITY_COLOURS = {0: 'red', 1: 'orange', 2: 'yellow', 3: 'blue', 4: 'secondary'}
TARGET = 'sla/cells/target.html'


# ----------------------------------------------------------------------------------------------- calendars
class BusinessCalendarListView(ObjectListView):
    queryset = selectors.calendar_list()
    filterset_class = BusinessCalendarFilterSet
    columns = [
        'name',
        'timezone',
        Column('hours_text', 'Working hours', order_by=None),
        Column('holiday_country', 'Holidays of'),
        'builtin',
    ]


class BusinessCalendarDetailView(ObjectDetailView):
    queryset = selectors.calendar_list()
    template_name = 'sla/businesscalendar_detail.html'
    fields = ['timezone', 'holiday_country', 'holiday_subdivision', 'builtin']

    def get_extra_context(self, obj):
        return {
            'upcoming_holidays': obj.upcoming_holidays(days=366),
            'slas': selectors.sla_list().filter(calendar=obj),
            'olas': selectors.ola_list().filter(calendar=obj),
        }


class BusinessCalendarCreateView(ObjectCreateView):
    queryset = selectors.calendar_list()
    form_class = BusinessCalendarForm
    service = services.calendar_create


class BusinessCalendarEditView(ObjectEditView):
    queryset = selectors.calendar_list()
    form_class = BusinessCalendarForm
    service = services.calendar_update
    service_object_kwarg = 'calendar'


class BusinessCalendarDeleteView(ObjectDeleteView):
    queryset = selectors.calendar_list()
    service = services.calendar_delete
    service_object_kwarg = 'calendar'


# ---------------------------------------------------------------------------------------------------- SLAs
class ServiceLevelAgreementListView(ObjectListView):
    queryset = selectors.sla_list()
    filterset_class = ServiceLevelAgreementFilterSet
    title = 'SLAs'
    columns = [
        'name',
        'ticket_kind',
        Column('priority', colors=PRIORITY_COLOURS),
        Column('service', order_by='service__name'),
        Column('response_minutes', 'Response', template=TARGET, css_class='text-end'),
        Column('resolution_minutes', 'Resolution', template=TARGET, css_class='text-end'),
        Column('calendar', order_by='calendar__name'),
        'hypercare',
        'active',
    ]


class ServiceLevelAgreementDetailView(ObjectDetailView):
    queryset = selectors.sla_list()
    template_name = 'sla/agreement_detail.html'
    fields = ['ticket_kind', 'priority', 'service', 'calendar', 'hypercare', 'active']

    def get_extra_context(self, obj):
        return {
            'targets': [
                ('Response (to Accepted)', obj.response_minutes),
                ('Resolution (to Completed)', obj.resolution_minutes),
            ],
            **_clock_stats(obj.clocks.all()),
        }


def _clock_stats(clocks) -> dict:
    """Compliance of an agreement's clocks: stopped in time against missed (a breach is final)."""
    stats = clocks.aggregate(
        met=Count('pk', filter=Q(breached_at__isnull=True, stopped_at__isnull=False)),
        missed=Count('pk', filter=Q(breached_at__isnull=False)),
        open=Count('pk', filter=Q(stopped_at__isnull=True, breached_at__isnull=True)),
    )
    decided = stats['met'] + stats['missed']
    stats['compliance'] = round(100 * stats['met'] / decided, 1) if decided else None
    return {'clock_stats': stats}


class ServiceLevelAgreementCreateView(ObjectCreateView):
    queryset = selectors.sla_list()
    form_class = ServiceLevelAgreementForm
    service = services.sla_create
    verbose_name = 'SLA'


class ServiceLevelAgreementEditView(ObjectEditView):
    queryset = selectors.sla_list()
    form_class = ServiceLevelAgreementForm
    service = services.sla_update
    service_object_kwarg = 'agreement'
    verbose_name = 'SLA'


class ServiceLevelAgreementDeleteView(ObjectDeleteView):
    queryset = selectors.sla_list()
    service = services.sla_delete
    service_object_kwarg = 'agreement'
    verbose_name = 'SLA'


# ---------------------------------------------------------------------------------------------------- OLAs
class OperationalLevelAgreementListView(ObjectListView):
    queryset = selectors.ola_list()
    filterset_class = OperationalLevelAgreementFilterSet
    title = 'OLAs'
    columns = [
        'name',
        Column('support_group', order_by='support_group__name'),
        Column('priority', colors=PRIORITY_COLOURS),
        Column('accept_minutes', 'Accept', template=TARGET, css_class='text-end'),
        Column('resolve_minutes', 'Resolve', template=TARGET, css_class='text-end'),
        Column('calendar', order_by='calendar__name'),
        'active',
    ]


class OperationalLevelAgreementDetailView(ObjectDetailView):
    queryset = selectors.ola_list()
    template_name = 'sla/agreement_detail.html'
    fields = ['support_group', 'priority', 'calendar', 'active']

    def get_extra_context(self, obj):
        return {
            'targets': [
                ('Accept (from assignment)', obj.accept_minutes),
                ('Resolve (while with the group)', obj.resolve_minutes),
            ],
            **_clock_stats(obj.clocks.all()),
        }


class OperationalLevelAgreementCreateView(ObjectCreateView):
    queryset = selectors.ola_list()
    form_class = OperationalLevelAgreementForm
    service = services.ola_create
    verbose_name = 'OLA'


class OperationalLevelAgreementEditView(ObjectEditView):
    queryset = selectors.ola_list()
    form_class = OperationalLevelAgreementForm
    service = services.ola_update
    service_object_kwarg = 'agreement'
    verbose_name = 'OLA'


class OperationalLevelAgreementDeleteView(ObjectDeleteView):
    queryset = selectors.ola_list()
    service = services.ola_delete
    service_object_kwarg = 'agreement'
    verbose_name = 'OLA'


# ----------------------------------------------------------------------------------- underpinning contracts
class UnderpinningContractListView(ObjectListView):
    queryset = selectors.contract_list()
    filterset_class = UnderpinningContractFilterSet
    columns = [
        Column('__str__', 'Contract', linkify=True, order_by='supplier,name'),
        'reference',
        Column('service', order_by='service__name'),
        Column('response_minutes', 'Response', template=TARGET, css_class='text-end'),
        Column('resolution_minutes', 'Resolution', template=TARGET, css_class='text-end'),
        Column('calendar', order_by='calendar__name'),
        'valid_until',
    ]


class UnderpinningContractDetailView(ObjectDetailView):
    queryset = selectors.contract_list()
    template_name = 'sla/agreement_detail.html'
    fields = [
        'supplier',
        'reference',
        'service',
        'calendar',
        'contact_email',
        'contact_phone',
        'valid_from',
        'valid_until',
        'notes',
    ]

    def get_extra_context(self, obj):
        return {'targets': [('Response', obj.response_minutes), ('Resolution', obj.resolution_minutes)]}


class UnderpinningContractCreateView(ObjectCreateView):
    queryset = selectors.contract_list()
    form_class = UnderpinningContractForm
    service = services.contract_create


class UnderpinningContractEditView(ObjectEditView):
    queryset = selectors.contract_list()
    form_class = UnderpinningContractForm
    service = services.contract_update
    service_object_kwarg = 'contract'


class UnderpinningContractDeleteView(ObjectDeleteView):
    queryset = selectors.contract_list()
    service = services.contract_delete
    service_object_kwarg = 'contract'


# ------------------------------------------------------------------------------------- clocks and events
class VisibleClocksMixin:
    """Clocks (and their events and pauses) of a restricted record, a security incident, only for those who may
    see it (`itsm.records.without_hidden_records`)."""

    record_path = ''

    def get_queryset(self):
        return without_hidden_records(super().get_queryset(), self.request.user, via=self.record_path)


class SlaClockListView(VisibleClocksMixin, ObjectListView):
    """The SLA monitor: open clocks nearest due first (overdue on top), then the stopped ones."""

    queryset = selectors.clock_list().order_by(
        F('stopped_at').desc(nulls_first=True), F('due_at').asc(nulls_last=True), 'id'
    )
    filterset_class = SlaClockFilterSet
    template_name = 'sla/slaclock_list.html'
    title = 'SLA monitor'
    columns = [
        Column('__str__', 'Clock', linkify=True, order_by='content_type,object_id,id'),
        Column('record', 'Ticket', template='sla/cells/ticket.html', order_by=None),
        'kind',
        Column('state', template='sla/cells/clock.html'),
        Column('target_minutes', 'Target', template=TARGET, css_class='text-end'),
        'due_at',
        Column('support_group', 'Group', order_by='support_group__name'),
    ]


class SlaClockDetailView(VisibleClocksMixin, ObjectDetailView):
    queryset = selectors.clock_list()
    template_name = 'sla/slaclock_detail.html'
    fields = ['kind', 'state', 'calendar', 'support_group', 'started_at', 'due_at', 'stopped_at', 'stop_reason']

    def get_timeline(self, obj):
        return []

    def get_extra_context(self, obj):
        return {'clocks': [obj], 'record': obj.record}


class ClockEventListView(VisibleClocksMixin, ObjectListView):
    record_path = 'clock__'
    queryset = selectors.clock_event_list()
    filterset_class = ClockEventFilterSet
    title = 'SLA events'
    columns = [
        Column('__str__', 'Event', linkify=True, order_by=None),
        Column('record', 'Ticket', template='sla/cells/event_ticket.html', order_by=None),
        'kind',
        Column('at', 'Recorded'),
        Column('percent', 'At %', css_class='text-end'),
        Column('crossed_at', 'Threshold reached'),
        'notified_at',
        'superseded',
    ]


class ClockEventDetailView(VisibleClocksMixin, ObjectDetailView):
    record_path = 'clock__'
    queryset = selectors.clock_event_list()
    fields = ['clock', 'kind', 'percent', 'crossed_at', 'at', 'superseded', 'notified_at', 'recipients']

    def get_timeline(self, obj):
        return []


class ClockPauseListView(VisibleClocksMixin, ObjectListView):
    record_path = 'clock__'
    queryset = selectors.clock_pause_list().order_by('-started_at', '-id')
    filterset_class = ClockPauseFilterSet
    title = 'SLA clock pauses'
    columns = [
        Column('__str__', 'Pause', linkify=True, order_by=None),
        Column('started_at', 'Paused'),
        'ended_at',
        'ticket_state',
        'reason',
    ]


class ClockPauseDetailView(VisibleClocksMixin, ObjectDetailView):
    record_path = 'clock__'
    queryset = selectors.clock_pause_list()
    fields = ['clock', 'started_at', 'ended_at', 'ticket_state', 'reason']

    def get_timeline(self, obj):
        return []
