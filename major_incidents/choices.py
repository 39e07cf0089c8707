"""Major-incident stages, roles, modes and update audiences, and the response lifecycle of domain §6, as data."""

from django.db import models

from itsm.workflow import Transition, Workflow


class MajorIncidentState(models.TextChoices):
    DETECTION = 'detection', 'Detection'
    ACTIVATION = 'activation', 'Activation'
    ASSESSMENT = 'assessment', 'Assessment'
    CONTAINMENT = 'containment', 'Containment'
    RESOLUTION = 'resolution', 'Resolution'
    REVIEW = 'review', 'Review'
    CLOSED = 'closed', 'Closed'
    CANCELLED = 'cancelled', 'Cancelled'


class ResponseMode(models.TextChoices):
    """Domain §6 and §15: severity 1 (and 2 on a business-critical service) gets an urgent response; the rest is
    handed off to the owning team's system of record with an estimate."""

    URGENT = 'urgent', 'Urgent response'
    HANDOFF = 'handoff', 'Hand-off'


class Severity(models.IntegerChoices):
    SEV1 = 1, 'Sev 1 – functionality completely disrupted'
    SEV2 = 2, 'Sev 2 – significantly impaired but available'
    SEV3 = 3, 'Sev 3 – slightly impaired'
    SEV4 = 4, 'Sev 4 – cosmetic'


class ServiceImpact(models.TextChoices):
    """What the major incident does to its services, as the status page says it (Statuspage component statuses)."""

    DEGRADED = 'degraded_performance', 'Degraded performance'
    PARTIAL_OUTAGE = 'partial_outage', 'Partial outage'
    MAJOR_OUTAGE = 'major_outage', 'Major outage'


class ResponseRole(models.TextChoices):
    """The response team of domain §6. The first five are one person each (fields on the record); support staff
    are many."""

    INCIDENT_MANAGER = 'incident_manager', 'Incident manager'
    TECH_LEAD = 'tech_lead', 'Tech lead'
    COMMUNICATIONS_LEAD = 'communications_lead', 'Communications lead'
    SERVICE_OWNER = 'service_owner', 'Service owner'
    BUSINESS_OWNER = 'business_owner', 'Business owner'
    SUPPORT_STAFF = 'support_staff', 'Support staff'


class RecipientSource(models.TextChoices):
    """Why someone is on a major incident's recipient list (domain §6 and §13)."""

    INITIATOR = 'initiator', 'Initiator'
    SERVICE_OWNER = 'service_owner', 'Service owner'
    BUSINESS_OWNER = 'business_owner', 'Business owner'
    RACI = 'raci', 'RACI (accountable, consulted, informed)'
    SENIOR_STAFF = 'senior_staff', 'Senior staff'
    HELP_DESK = 'help_desk', 'Help desk'
    ANNOUNCE_LIST = 'announce_list', 'Service announce list'
    ADDED = 'added', 'Added by hand'


class UpdateAudience(models.TextChoices):
    INTERNAL = 'internal', 'Internal (response team)'
    RECIPIENTS = 'recipients', 'E-mail to the recipient list'
    PUBLIC = 'public', 'Public (status page and its subscribers)'


class UpdateStatus(models.TextChoices):
    """Where the response stands, as each update says it (the incident statuses of Atlassian Statuspage)."""

    INVESTIGATING = 'investigating', 'Investigating'
    IDENTIFIED = 'identified', 'Identified'
    MONITORING = 'monitoring', 'Monitoring'
    RESOLVED = 'resolved', 'Resolved'


class ValidationRole(models.TextChoices):
    """Both must validate the restored service before the major incident closes (domain §6)."""

    SERVICE_OWNER = 'service_owner', 'Service owner'
    BUSINESS_OWNER = 'business_owner', 'Business owner'


class CandidateReason(models.TextChoices):
    CRITICAL_SERVICE = 'critical_service', 'P0/P1 on a critical service'
    FLOOD = 'flood', 'Many incidents on one service or CI'


class CandidateStatus(models.TextChoices):
    PROPOSED = 'proposed', 'Proposed'
    DECLARED = 'declared', 'Declared'
    DISMISSED = 'dismissed', 'Dismissed'


class ProcessRating(models.IntegerChoices):
    """How well the response process was followed (post-incident review)."""

    NOT_FOLLOWED = 1, '1 – not followed'
    POORLY = 2, '2 – followed poorly'
    PARTLY = 3, '3 – partly followed'
    WELL = 4, '4 – followed well'
    EXEMPLARY = 5, '5 – followed throughout'


STATE_COLOURS = {
    MajorIncidentState.DETECTION: 'red',
    MajorIncidentState.ACTIVATION: 'red',
    MajorIncidentState.ASSESSMENT: 'orange',
    MajorIncidentState.CONTAINMENT: 'orange',
    MajorIncidentState.RESOLUTION: 'yellow',
    MajorIncidentState.REVIEW: 'green',
    MajorIncidentState.CLOSED: 'secondary',
    MajorIncidentState.CANCELLED: 'secondary',
}

S = MajorIncidentState
# Stages in which the service is still down or degraded (the outage runs; updates are due on the cadence).
ACTIVE = (S.DETECTION, S.ACTIVATION, S.ASSESSMENT, S.CONTAINMENT, S.RESOLUTION)
MAJOR_INCIDENT_WORKFLOW = Workflow(
    field='state',
    states=MajorIncidentState,
    triage=(S.DETECTION,),
    awaiting_acceptance=(),
    paused=(),
    finished=(S.REVIEW, S.CLOSED, S.CANCELLED),
    final=(S.CLOSED, S.CANCELLED),
    transitions=[
        Transition(
            'activate',
            'Activate the response',
            sources=(S.DETECTION,),
            target=S.ACTIVATION,
            requires=('incident_manager',),
        ),
        Transition('assess', 'Assess the scope', sources=(S.ACTIVATION,), target=S.ASSESSMENT),
        Transition('contain', 'Contain', sources=(S.ASSESSMENT,), target=S.CONTAINMENT),
        Transition(
            'start_resolution', 'Start the resolution', sources=(S.ASSESSMENT, S.CONTAINMENT), target=S.RESOLUTION
        ),
        Transition(
            'resolve',
            'Service restored',
            sources=(S.CONTAINMENT, S.RESOLUTION),
            target=S.REVIEW,
            requires=('resolution',),
        ),
        Transition('reopen', 'Reopen', sources=(S.REVIEW,), target=S.RESOLUTION),
        Transition('close', 'Close', sources=(S.REVIEW,), target=S.CLOSED),
        Transition('cancel', 'Cancel', sources=ACTIVE, target=S.CANCELLED, requires=('cancel_reason',)),
    ],
)
