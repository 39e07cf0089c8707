"""`/api/v1/major-incidents/`: list, retrieve by number, declare (create), edit, and one POST per declared action
(activate, assess, contain, start-resolution, resolve, validate, close, reopen, post-update, set-team,
link-children, hand-off, cancel), with comments and timeline. Requesters read nothing here: they follow major
incidents on the public status page."""

from __future__ import annotations

from itsm.api.records import RecordViewSet

from .. import selectors, services
from ..filters import MajorIncidentFilterSet
from ..models import MajorIncident
from . import serializers as s

ROLE_RELATIONS = ('incident_manager', 'tech_lead', 'communications_lead', 'service_owner', 'business_owner')


def major_incident_queryset():
    """The major-incident list of the pages (children counted, overdue flagged), with the rest of the team and the
    CIs the API shows too: a fixed number of queries whatever the rows."""
    return (
        selectors.major_list()
        .select_related(*ROLE_RELATIONS, 'opened_by', 'source_incident')
        .prefetch_related('cis', 'support_staff')
    )


class MajorIncidentViewSet(RecordViewSet):
    """Major incidents, newest first, addressed by number (MIR0001001). They are never deleted: they are closed or
    cancelled."""

    queryset = MajorIncident.objects.all()
    serializer_class = s.MajorIncidentSerializer
    filterset_class = MajorIncidentFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        return major_incident_queryset().order_by('-opened_at', '-id')

    def get_serializer_class(self):
        if self.action in ('partial_update', 'update'):
            return s.MajorIncidentUpdateFieldsSerializer
        return s.MajorIncidentSerializer

    def perform_create(self, serializer):
        major = services.major_declare(actor=self.actor(), **dict(serializer.validated_data))
        serializer.instance = self.reload(major)

    def perform_update(self, serializer):
        major = services.major_update(major=serializer.instance, actor=self.actor(), **dict(serializer.validated_data))
        serializer.instance = self.reload(major)
