"""Change types, states, outcomes, risk levels, CAB policies and votes, and the change lifecycle (domain §8)."""

from django.db import models

from itsm.workflow import Transition, Workflow


class ChangeType(models.TextChoices):
    STANDARD = 'standard', 'Standard (pre-approved)'
    NORMAL = 'normal', 'Normal'
    EMERGENCY = 'emergency', 'Emergency'


class ChangeState(models.TextChoices):
    DRAFT = 'draft', 'Draft'
    SUBMITTED = 'submitted', 'Submitted'
    ASSESSMENT = 'assessment', 'Assessment'
    AUTHORIZATION = 'authorization', 'Authorization'
    SCHEDULED = 'scheduled', 'Scheduled'
    IMPLEMENTATION = 'implementation', 'Implementation'
    REVIEW = 'review', 'Review'
    CLOSED = 'closed', 'Closed'
    REJECTED = 'rejected', 'Rejected'
    CANCELLED = 'cancelled', 'Cancelled'


class ChangeOutcome(models.TextChoices):
    SUCCESSFUL = 'successful', 'Successful'
    SUCCESSFUL_WITH_ISSUES = 'successful_with_issues', 'Successful with issues'
    FAILED = 'failed', 'Failed'
    BACKED_OUT = 'backed_out', 'Backed out'


class RiskLevel(models.TextChoices):
    """Ordered from the least to the most risky: comparisons use the declaration order."""

    LOW = 'low', 'Low'
    MODERATE = 'moderate', 'Moderate'
    HIGH = 'high', 'High'
    VERY_HIGH = 'very_high', 'Very high'


class RiskSignal(models.TextChoices):
    """What the CMDB and the live desk say about a change's CIs and services (risk rules read these counts)."""

    DOWNSTREAM_SERVICES = 'downstream_services', 'Services reached downstream of the affected CIs'
    OPEN_INCIDENTS = 'open_incidents', 'Open incidents on the affected CIs and services'
    MAJOR_INCIDENTS = 'major_incidents', 'Open major incidents on the affected CIs and services'
    CLOCKS_AT_RISK = 'clocks_at_risk', 'Running SLA clocks at risk on them'
    FAILED_CHANGES = 'failed_changes', 'Failed changes on the same CIs in the last 90 days'
    OVERLAPPING_CHANGES = 'overlapping_changes', 'Changes overlapping in time on the same or related CIs'


class CabRoute(models.TextChoices):
    """Who authorises a change: chosen by the CAB rules (data) when the change is assessed."""

    CAB = 'cab', 'Change advisory board'
    EMERGENCY_CAB = 'emergency_cab', 'Emergency CAB'
    SKIP = 'skip', 'No CAB (pre-approved or outside production)'


class CabKind(models.TextChoices):
    REGULAR = 'regular', 'CAB'
    EMERGENCY = 'emergency', 'Emergency CAB'


class ApprovalPolicy(models.TextChoices):
    ALL = 'all', 'All members approve'
    ANY = 'any', 'Any member approves'
    MAJORITY = 'majority', 'A majority of members approve'
    N_OF_M = 'n_of_m', 'N of the members approve'


class Vote(models.TextChoices):
    APPROVE = 'approve', 'Approve'
    REJECT = 'reject', 'Reject'
    ABSTAIN = 'abstain', 'Abstain'


class MeetingStatus(models.TextChoices):
    PLANNED = 'planned', 'Planned'
    HELD = 'held', 'Held'
    CANCELLED = 'cancelled', 'Cancelled'


class TaskState(models.TextChoices):
    OPEN = 'open', 'Open'
    IN_PROGRESS = 'in_progress', 'In progress'
    DONE = 'done', 'Done'
    CANCELLED = 'cancelled', 'Cancelled'


STATE_COLOURS = {
    ChangeState.DRAFT: 'secondary',
    ChangeState.SUBMITTED: 'azure',
    ChangeState.ASSESSMENT: 'blue',
    ChangeState.AUTHORIZATION: 'indigo',
    ChangeState.SCHEDULED: 'purple',
    ChangeState.IMPLEMENTATION: 'orange',
    ChangeState.REVIEW: 'yellow',
    ChangeState.CLOSED: 'green',
    ChangeState.REJECTED: 'red',
    ChangeState.CANCELLED: 'secondary',
}

S = ChangeState
_CANCELLABLE = (S.DRAFT, S.SUBMITTED, S.ASSESSMENT, S.AUTHORIZATION, S.SCHEDULED)
CHANGE_WORKFLOW = Workflow(
    field='state',
    states=ChangeState,
    triage=(S.DRAFT, S.SUBMITTED),
    awaiting_acceptance=(),
    paused=(),
    finished=(S.REVIEW, S.CLOSED, S.REJECTED, S.CANCELLED),
    final=(S.CLOSED, S.REJECTED, S.CANCELLED),
    transitions=[
        Transition('submit', 'Submit', sources=(S.DRAFT,), target=S.SUBMITTED),
        Transition('withdraw', 'Back to draft', sources=(S.SUBMITTED, S.ASSESSMENT), target=S.DRAFT),
        Transition('assess', 'Assess', sources=(S.SUBMITTED,), target=S.ASSESSMENT),
        # To the CAB (or the emergency CAB) the CAB rules chose...
        Transition(
            'request_authorization',
            'Request authorisation',
            sources=(S.ASSESSMENT,),
            target=S.AUTHORIZATION,
            requires=('risk_level',),
        ),
        # ...or straight to the calendar when they skip it (standard changes, changes outside production).
        Transition(
            'schedule',
            'Schedule',
            sources=(S.ASSESSMENT, S.AUTHORIZATION),
            target=S.SCHEDULED,
            requires=('planned_start', 'planned_end'),
        ),
        Transition('reject', 'Reject', sources=(S.ASSESSMENT, S.AUTHORIZATION), target=S.REJECTED),
        Transition('reschedule', 'Reschedule', sources=(S.SCHEDULED,), target=S.SCHEDULED),
        Transition('start', 'Start implementation', sources=(S.SCHEDULED,), target=S.IMPLEMENTATION),
        Transition('complete', 'Implementation done', sources=(S.IMPLEMENTATION,), target=S.REVIEW),
        # The outcome is recorded at review; failed and emergency changes also need their post-implementation review.
        Transition('close', 'Close', sources=(S.REVIEW,), target=S.CLOSED, requires=('outcome',)),
        Transition('cancel', 'Cancel', sources=_CANCELLABLE, target=S.CANCELLED, requires=('cancel_reason',)),
    ],
)

T = TaskState
TASK_WORKFLOW = Workflow(
    field='state',
    states=TaskState,
    triage=(T.OPEN,),
    awaiting_acceptance=(),
    paused=(),
    finished=(T.DONE, T.CANCELLED),
    final=(T.DONE, T.CANCELLED),
    transitions=[
        Transition('begin', 'Begin', sources=(T.OPEN,), target=T.IN_PROGRESS, requires=('assignee',)),
        Transition('finish', 'Done', sources=(T.OPEN, T.IN_PROGRESS), target=T.DONE),
        Transition('cancel', 'Cancel', sources=(T.OPEN, T.IN_PROGRESS), target=T.CANCELLED),
    ],
)
