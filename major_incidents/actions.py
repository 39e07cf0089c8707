"""What people can do to a major incident, declared once: the services, the pages and the API all read this.

Incident managers declare and run major incidents (activate, move through the stages, hand off, close, cancel). The
response team (the record's incident manager, tech lead and communications lead) moves the stages and posts updates;
the communications lead owns the cadence. Agents link child incidents. Only the record's service owner and business
owner validate the restored service. A system job (no person) may do all of it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from itsm.choices import Role
from itsm.errors import Conflict, NotAllowed
from itsm.roles import AGENT_ROLES
from itsm.workflow import Action, ActionSet

from .choices import ACTIVE, MAJOR_INCIDENT_WORKFLOW, MajorIncidentState, ValidationRole

MANAGER_ROLES = (Role.INCIDENT_MANAGER, Role.ADMINISTRATOR)
LINKER_ROLES = (*AGENT_ROLES, Role.ADMINISTRATOR)


def is_incident_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*MANAGER_ROLES))


def leads(major, user) -> bool:
    """Its incident manager or tech lead, any incident manager, or an integration (a chat-ops or monitoring client
    runs the response for the team through the API; closing stays with incident managers)."""
    if user is None or not user.is_authenticated:
        return False
    if is_incident_manager(user) or user.has_role(Role.INTEGRATION):
        return True
    return user.pk in (major.incident_manager_id, major.tech_lead_id)


def communicates(major, user) -> bool:
    """Its incident manager, tech lead or communications lead, or any incident manager."""
    return leads(major, user) or (
        user is not None and user.is_authenticated and user.pk == major.communications_lead_id
    )


def validation_role_of(major, user) -> str | None:
    """The validation `user` gives: the service owner's, else the business owner's (one person may hold both)."""
    if user is None or not user.is_authenticated:
        return None
    done = {v.role for v in major.validations.all()}
    if user.pk == major.service_owner_id and ValidationRole.SERVICE_OWNER not in done:
        return ValidationRole.SERVICE_OWNER
    if user.pk == major.business_owner_id and ValidationRole.BUSINESS_OWNER not in done:
        return ValidationRole.BUSINESS_OWNER
    return None


def managers_only(what: str):
    def guard(major, user):
        if user is not None and not is_incident_manager(user):
            return NotAllowed(f'Only an incident manager can {what}.')
        return None

    return guard


def leads_only(what: str):
    def guard(major, user):
        if user is not None and not leads(major, user):
            return NotAllowed(f'Only the incident manager or the tech lead of {major.number} can {what}.')
        return None

    return guard


def may_post_update(major, user):
    if user is not None and not communicates(major, user):
        return NotAllowed(f'Only the response team of {major.number} (incident manager, leads) can post updates.')
    return None


def may_link_children(major, user):
    if user is not None and not (user.is_authenticated and user.has_role(*LINKER_ROLES)):
        return NotAllowed('Only service desk staff and incident managers can link incidents to a major incident.')
    return None


def may_validate(major, user):
    if user is None:
        return None
    if user.pk not in (major.service_owner_id, major.business_owner_id):
        return NotAllowed(f'Only the service owner or the business owner of {major.number} can validate it.')
    if validation_role_of(major, user) is None:
        return Conflict(f'You have already validated {major.number}.', code='already_validated')
    return None


def missing_for_close(major) -> list[str]:
    """What stands between a restored major incident and its closure (empty: it may close)."""
    missing = []
    done = {v.role for v in major.validations.all()}
    for role in ValidationRole:
        if role not in done:
            missing.append(f'validation by the {role.label.lower()}')
    review = getattr(major, 'review', None)  # the reverse one-to-one raises AttributeError when absent
    if review is None or not review.root_cause:
        missing.append('a post-incident review with the root cause')
    return missing


def may_close(major, user):
    refusal = managers_only('close major incidents')(major, user)
    if refusal is not None:
        return refusal
    missing = missing_for_close(major)
    if missing:
        return Conflict(f'{major.number} cannot close yet: it needs {", ".join(missing)}.', code='close_blocked')
    return None


def may_hand_off(major, user):
    refusal = leads_only('hand it off')(major, user)
    if refusal is None and not major.services.exists() and not major.cis.exists():
        return ValidationError({'services': 'Name the affected services or CIs before handing it off.'})
    return refusal


S = MajorIncidentState
SERVICES = 'major_incidents.services'
FORMS = 'major_incidents.forms'
SERIALIZERS = 'major_incidents.api.serializers'
NOTE_FORM = 'itsm.forms.NoteForm'
NOTE_SERIALIZER = 'itsm.api.serializers.NoteSerializer'

MAJOR_INCIDENT_ACTIONS = ActionSet(
    MAJOR_INCIDENT_WORKFLOW,
    namespace='major_incidents',
    record_argument='major',
    actions=[
        Action(
            'activate',
            'Activate the response',
            f'{SERVICES}.major_activate',
            transition='activate',
            guard=managers_only('activate a major-incident response'),
            form=f'{FORMS}.TeamForm',
            serializer=f'{SERIALIZERS}.TeamSerializer',
            icon='urgent',
            done='The response to {record.number} is active; {record.incident_manager} runs it.',
            primary=True,
            description='Assemble the team: incident manager, tech lead, communications lead, owners, support staff.',
        ),
        Action(
            'assess',
            'Assess the scope',
            f'{SERVICES}.major_assess',
            transition='assess',
            guard=leads_only('move it to assessment'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='zoom-scan',
            done='{record.number} is in assessment.',
            primary=True,
            description='Scope, affected services and CIs, stakeholders.',
        ),
        Action(
            'contain',
            'Contain',
            f'{SERVICES}.major_contain',
            transition='contain',
            guard=leads_only('move it to containment'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='shield-half',
            done='{record.number} is in containment.',
            primary=True,
        ),
        Action(
            'start_resolution',
            'Start the resolution',
            f'{SERVICES}.major_start_resolution',
            transition='start_resolution',
            guard=leads_only('start the resolution'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='tool',
            done='{record.number} is being resolved.',
            primary=True,
        ),
        Action(
            'resolve',
            'Service restored',
            f'{SERVICES}.major_resolve',
            transition='resolve',
            guard=leads_only('declare the service restored'),
            form=f'{FORMS}.ResolveForm',
            serializer=f'{SERIALIZERS}.ResolveSerializer',
            icon='circle-check',
            done='{record.number} is resolved; its child incidents are completed.',
            primary=True,
            description='The service works again: every child incident is completed and its caller told.',
            public_fields=('resolution',),
        ),
        Action(
            'validate',
            'Validate the service',
            f'{SERVICES}.major_validate',
            guard=may_validate,
            states=(S.REVIEW,),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            permission='view',
            icon='checks',
            done='Your validation of {record.number} is recorded.',
            primary=True,
            description='As service owner or business owner: the restored service works for its users.',
        ),
        Action(
            'close',
            'Close',
            f'{SERVICES}.major_close',
            transition='close',
            guard=may_close,
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='lock',
            done='{record.number} is closed.',
            primary=True,
            description='Needs both validations and a post-incident review with the root cause.',
        ),
        Action(
            'reopen',
            'Reopen',
            f'{SERVICES}.major_reopen',
            transition='reopen',
            guard=managers_only('reopen major incidents'),
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='arrow-back-up',
            done='{record.number} is reopened: the service is down again.',
            in_menu=True,
        ),
        Action(
            'post_update',
            'Post an update',
            f'{SERVICES}.major_post_update',
            guard=may_post_update,
            states=(*ACTIVE, S.REVIEW),
            form=f'{FORMS}.UpdateForm',
            serializer=f'{SERIALIZERS}.UpdatePostSerializer',
            permission='view',
            icon='speakerphone',
            done='Update posted on {record.number}.',
            primary=True,
            description='Internal, to the recipient list, or public on the status page.',
        ),
        Action(
            'set_team',
            'Response team',
            f'{SERVICES}.major_set_team',
            guard=leads_only('change the response team'),
            states=(*ACTIVE, S.REVIEW),
            form=f'{FORMS}.TeamForm',
            serializer=f'{SERIALIZERS}.TeamSerializer',
            icon='users',
            done='The response team of {record.number} is updated.',
            in_menu=True,
        ),
        Action(
            'link_children',
            'Link incidents',
            f'{SERVICES}.major_link_children',
            guard=may_link_children,
            states=ACTIVE,
            form=f'{FORMS}.LinkChildrenForm',
            serializer=f'{SERIALIZERS}.LinkChildrenSerializer',
            permission='view',
            icon='link',
            done='Incidents linked to {record.number}.',
            in_menu=True,
            description='Work these incidents as part of the major incident (they complete with it).',
        ),
        Action(
            'hand_off',
            'Hand off',
            f'{SERVICES}.major_hand_off',
            guard=may_hand_off,
            states=ACTIVE,
            form=f'{FORMS}.HandOffForm',
            serializer=f'{SERIALIZERS}.HandOffSerializer',
            icon='arrow-forward-up',
            done='{record.number} is handed off to {record.handoff_owner}; the recipient list is told.',
            in_menu=True,
            description='The owning team fixes it in their system of record, with an estimate.',
        ),
        Action(
            'cancel',
            'Cancel',
            f'{SERVICES}.major_cancel',
            transition='cancel',
            guard=managers_only('cancel major incidents'),
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='ban',
            done='{record.number} is cancelled.',
            in_menu=True,
            description='Not a major incident after all: say why.',
        ),
    ],
)
