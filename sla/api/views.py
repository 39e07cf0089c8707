"""`/api/v1/slas/`, `/olas/`, `/calendars/`, `/underpinning-contracts/` (CRUD through `sla.services`) and the
read-only `/sla-clocks/`, `/sla-events/` and `/sla-pauses/`."""

from rest_framework import mixins, viewsets

from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.records import without_hidden_records

from .. import selectors, services
from ..filters import (
    BusinessCalendarFilterSet,
    ClockEventFilterSet,
    ClockPauseFilterSet,
    OperationalLevelAgreementFilterSet,
    ServiceLevelAgreementFilterSet,
    SlaClockFilterSet,
    UnderpinningContractFilterSet,
)
from . import serializers as s

__all__ = [
    'BusinessCalendarViewSet',
    'ClockEventViewSet',
    'ClockPauseViewSet',
    'OperationalLevelAgreementViewSet',
    'ServiceLevelAgreementViewSet',
    'SlaClockViewSet',
    'UnderpinningContractViewSet',
]


class ServiceViewSet(ItsmModelViewSet):
    """CRUD whose writes call this app's services: `create`, `update(<object_kwarg>=...)` and `delete`."""

    create_service = update_service = delete_service = None
    object_kwarg = 'agreement'

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            actor=self.actor(), **{self.object_kwarg: serializer.instance}, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        type(self).delete_service(actor=self.actor(), **{self.object_kwarg: instance})


class ServiceLevelAgreementViewSet(ServiceViewSet):
    """SLAs: response and resolution targets per record kind and priority, for a service or by default."""

    queryset = selectors.sla_list()
    serializer_class = s.ServiceLevelAgreementSerializer
    filterset_class = ServiceLevelAgreementFilterSet
    create_service, update_service, delete_service = services.sla_create, services.sla_update, services.sla_delete


class OperationalLevelAgreementViewSet(ServiceViewSet):
    """OLAs: accept and resolve targets of a support group while it holds a record."""

    queryset = selectors.ola_list()
    serializer_class = s.OperationalLevelAgreementSerializer
    filterset_class = OperationalLevelAgreementFilterSet
    create_service, update_service, delete_service = services.ola_create, services.ola_update, services.ola_delete


class UnderpinningContractViewSet(ServiceViewSet):
    """Underpinning contracts with suppliers and their targets."""

    queryset = selectors.contract_list()
    serializer_class = s.UnderpinningContractSerializer
    filterset_class = UnderpinningContractFilterSet
    object_kwarg = 'contract'
    create_service = services.contract_create
    update_service = services.contract_update
    delete_service = services.contract_delete


class BusinessCalendarViewSet(ServiceViewSet):
    """Business calendars: time zone, weekly hours, country and custom holidays. `24x7` is built in."""

    queryset = selectors.calendar_list()
    serializer_class = s.BusinessCalendarSerializer
    filterset_class = BusinessCalendarFilterSet
    object_kwarg = 'calendar'
    create_service = services.calendar_create
    update_service = services.calendar_update
    delete_service = services.calendar_delete


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_action: str | None = None
    record_path = ''  # how a row reaches its record's content type and id ('clock__' for a clock's events)

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        # Clocks of a restricted record (a security incident) only for those who may see it.
        return without_hidden_records(super().get_queryset(), self.request.user, via=self.record_path)


class SlaClockViewSet(ReadOnlyViewSet):
    """Every clock of every process record (written only by the records' lifecycles and the sweep)."""

    queryset = selectors.clock_list().order_by('-id')
    serializer_class = s.SlaClockSerializer
    filterset_class = SlaClockFilterSet


class ClockEventViewSet(ReadOnlyViewSet):
    """Warnings and breaches as they were announced, newest first."""

    record_path = 'clock__'

    queryset = selectors.clock_event_list()
    serializer_class = s.ClockEventSerializer
    filterset_class = ClockEventFilterSet


class ClockPauseViewSet(ReadOnlyViewSet):
    """Intervals in which clocks did not count."""

    record_path = 'clock__'

    queryset = selectors.clock_pause_list().order_by('-started_at', '-id')
    serializer_class = s.ClockPauseSerializer
    filterset_class = ClockPauseFilterSet
