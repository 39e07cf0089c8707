"""Problem states, root-cause categories and analysis methods, and the problem lifecycle of domain §7, as data."""

from django.db import models

from itsm.workflow import Transition, Workflow


class ProblemState(models.TextChoices):
    NEW = 'new', 'New'
    ASSESSED = 'assessed', 'Assessed'
    ROOT_CAUSE_ANALYSIS = 'root_cause_analysis', 'Root-cause analysis'
    FIX_IN_PROGRESS = 'fix_in_progress', 'Fix in progress'
    RESOLVED = 'resolved', 'Resolved'
    CLOSED = 'closed', 'Closed'
    CANCELLED = 'cancelled', 'Cancelled'


class RootCauseCategory(models.TextChoices):
    SOFTWARE = 'software', 'Software defect'
    HARDWARE = 'hardware', 'Hardware failure'
    CONFIGURATION = 'configuration', 'Configuration error'
    CAPACITY = 'capacity', 'Capacity or performance'
    CHANGE = 'change', 'Faulty change'
    PROCESS = 'process', 'Process or procedure'
    HUMAN = 'human', 'Human error'
    VENDOR = 'vendor', 'Supplier or third party'
    ENVIRONMENT = 'environment', 'Environment (power, cooling, network provider)'
    SECURITY = 'security', 'Security event'
    UNKNOWN = 'unknown', 'Not determined'


class AnalysisMethod(models.TextChoices):
    FIVE_WHYS = 'five_whys', '5 whys'
    FISHBONE = 'fishbone', 'Ishikawa (fishbone) diagram'
    FAULT_TREE = 'fault_tree', 'Fault tree analysis'
    KEPNER_TREGOE = 'kepner_tregoe', 'Kepner-Tregoe problem analysis'
    TIMELINE = 'timeline', 'Chronological (timeline) analysis'
    PAIN_VALUE = 'pain_value', 'Pain value analysis'
    OTHER = 'other', 'Other'


class CandidateStatus(models.TextChoices):
    PROPOSED = 'proposed', 'Proposed'
    ACCEPTED = 'accepted', 'Accepted'
    DISMISSED = 'dismissed', 'Dismissed'


class CandidateBasis(models.TextChoices):
    """What the incidents of a candidate have in common."""

    CI_CLASSIFICATION = 'ci_classification', 'Same CI and classification'
    SERVICE_CLASSIFICATION = 'service_classification', 'Same service and classification'
    SIMILAR_TEXT = 'similar_text', 'Similar short descriptions'


STATE_COLOURS = {
    ProblemState.NEW: 'azure',
    ProblemState.ASSESSED: 'blue',
    ProblemState.ROOT_CAUSE_ANALYSIS: 'indigo',
    ProblemState.FIX_IN_PROGRESS: 'purple',
    ProblemState.RESOLVED: 'green',
    ProblemState.CLOSED: 'secondary',
    ProblemState.CANCELLED: 'secondary',
}

S = ProblemState
_OPEN = (S.NEW, S.ASSESSED, S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS)
PROBLEM_WORKFLOW = Workflow(
    field='state',
    states=ProblemState,
    triage=(S.NEW,),
    awaiting_acceptance=(),
    paused=(),
    finished=(S.RESOLVED, S.CLOSED, S.CANCELLED),
    final=(S.CLOSED, S.CANCELLED),
    transitions=[
        Transition('assess', 'Assess', sources=(S.NEW,), target=S.ASSESSED, requires=('owner',)),
        Transition('analyse', 'Start root-cause analysis', sources=(S.ASSESSED,), target=S.ROOT_CAUSE_ANALYSIS),
        Transition(
            'start_fix',
            'Start the fix',
            sources=(S.ROOT_CAUSE_ANALYSIS,),
            target=S.FIX_IN_PROGRESS,
            requires=('root_cause',),
        ),
        Transition(
            'resolve',
            'Resolve',
            sources=(S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS),
            target=S.RESOLVED,
            requires=('root_cause', 'resolution'),
        ),
        Transition('reopen', 'Reopen', sources=(S.RESOLVED,), target=S.FIX_IN_PROGRESS),
        Transition('close', 'Close', sources=(S.RESOLVED,), target=S.CLOSED),
        Transition('cancel', 'Cancel', sources=_OPEN, target=S.CANCELLED, requires=('cancel_reason',)),
    ],
)
