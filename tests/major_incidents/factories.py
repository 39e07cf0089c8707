"""Builders for major-incident test data. They call the services, so test data obeys the same rules as real data."""

from __future__ import annotations

import datetime as dt
import itertools
from importlib.util import find_spec
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from itsm.audit import Actor
from itsm.choices import Role
from major_incidents import services
from major_incidents.choices import (
    CandidateReason,
    CandidateStatus,
    MajorIncidentState,
    UpdateAudience,
    UpdateStatus,
    ValidationRole,
)
from major_incidents.models import (
    ActionItem,
    MajorIncident,
    MajorIncidentCandidate,
    MajorIncidentChild,
    MajorIncidentUpdate,
    PostIncidentReview,
    Recipient,
    UpdateTemplate,
    Validation,
)
from tests.factories import make_ticket, make_user

SYSTEM = Actor.system()
_counter = itertools.count(1)
S = MajorIncidentState
ROOT_CAUSE = 'A storage controller failed over to a cache that was not warmed.'

# The path a major incident takes to reach each state (cancelled: from detection).
PATH = {
    S.DETECTION: [],
    S.ACTIVATION: ['activate'],
    S.ASSESSMENT: ['activate', 'assess'],
    S.CONTAINMENT: ['activate', 'assess', 'contain'],
    S.RESOLUTION: ['activate', 'assess', 'contain', 'start_resolution'],
    S.REVIEW: ['activate', 'assess', 'contain', 'start_resolution', 'resolve'],
    S.CLOSED: ['activate', 'assess', 'contain', 'start_resolution', 'resolve', 'validate', 'review', 'close'],
    S.CANCELLED: ['cancel'],
}


def make_incident_manager(**kwargs):
    return make_user(Role.INCIDENT_MANAGER, **kwargs)


def make_public_service(
    name: str | None = None, critical: bool = False, owner=None, business_owner=None, announce_list: str = ''
):
    """A service CI shown on the status page (`Service.public`); returns the CI (what major incidents name)."""
    from cmdb import services as cmdb_services
    from cmdb.choices import Criticality
    from tests.cmdb.factories import make_service

    service = make_service(
        name or f'Public service {next(_counter)}',
        criticality=Criticality.CRITICAL if critical else Criticality.MEDIUM,
        service_owner=owner,
        business_owner=business_owner,
    )
    service = cmdb_services.service_update(
        service=service, actor=SYSTEM, public=True, public_name='', announce_list=announce_list
    )
    return service.ci


def _owners(major: MajorIncident) -> MajorIncident:
    """Give the major incident a service owner and a business owner (people who can validate) when it has none."""
    if major.service_owner_id and major.business_owner_id:
        return major
    return services.major_set_team(
        major=major,
        actor=SYSTEM,
        service_owner=major.service_owner or make_user(Role.SERVICE_OWNER),
        business_owner=major.business_owner or make_user(Role.BUSINESS_OWNER),
    )


def write_review(major: MajorIncident, actor: Actor = SYSTEM, **fields: Any) -> PostIncidentReview:
    """The post-incident review of `major` with a root cause, through the review functions when they exist."""
    fields.setdefault('root_cause', ROOT_CAUSE)
    if find_spec('major_incidents.review') is not None:
        from major_incidents import review

        started = review.review_start(major=major, actor=actor)
        return review.review_update(review=started, actor=actor, **fields)
    return PostIncidentReview.objects.update_or_create(
        major_incident=major,
        defaults={'outage_started_at': major.outage_started_at, 'outage_ended_at': major.restored_at, **fields},
    )[0]


def drive(major: MajorIncident, state: str, *, actor: Actor = SYSTEM) -> MajorIncident:
    """Take `major` from Detection to `state` through the services, as its team would."""
    for step in PATH[state]:
        if step == 'activate':
            manager = major.incident_manager or make_incident_manager()
            major = services.major_activate(major=major, actor=actor, incident_manager=manager)
        elif step == 'assess':
            major = services.major_assess(major=major, actor=actor)
        elif step == 'contain':
            major = services.major_contain(major=major, actor=actor)
        elif step == 'start_resolution':
            major = services.major_start_resolution(major=major, actor=actor)
        elif step == 'resolve':
            major = services.major_resolve(
                major=major, actor=actor, resolution='Failed the storage over to the standby controller.'
            )
        elif step == 'validate':
            major = _owners(MajorIncident.objects.get(pk=major.pk))
            services.major_validate(major=major, actor=Actor(user=major.service_owner))
            major = MajorIncident.objects.get(pk=major.pk)
            services.major_validate(major=major, actor=Actor(user=major.business_owner))
        elif step == 'review':
            write_review(MajorIncident.objects.get(pk=major.pk), actor=actor)
        elif step == 'close':
            major = services.major_close(major=MajorIncident.objects.get(pk=major.pk), actor=actor)
        elif step == 'cancel':
            major = services.major_cancel(major=major, actor=actor, reason='One user only: not a major incident.')
    return MajorIncident.objects.get(pk=major.pk)


class MajorIncidentFactory(DjangoModelFactory):
    """`MajorIncidentFactory(state='review', services=[...])` declares through `major_declare` and drives it there.
    Without services it names a new public service."""

    class Meta:
        model = MajorIncident

    short_description = factory.Sequence(lambda n: f'Student e-mail unavailable {n}')
    description = 'Nobody can sign in to webmail or the mail clients.'

    @classmethod
    def _create(cls, model_class, *args, state: str = S.DETECTION, actor: Actor = SYSTEM, **kwargs):
        if 'services' not in kwargs and 'source_incident' not in kwargs and 'candidate' not in kwargs:
            kwargs['services'] = [make_public_service()]
        kwargs.setdefault('incident_manager', make_incident_manager())
        major = services.major_declare(actor=actor, **kwargs)
        return drive(major, state, actor=actor)


def make_major(state: str = S.DETECTION, **fields: Any) -> MajorIncident:
    return MajorIncidentFactory(state=state, **fields)


class UpdateFactory(DjangoModelFactory):
    """An update posted through `major_post_update` (to the recipient list unless told)."""

    class Meta:
        model = MajorIncidentUpdate

    major_incident = factory.SubFactory(MajorIncidentFactory)
    audience = UpdateAudience.RECIPIENTS
    status = UpdateStatus.INVESTIGATING
    body = factory.Sequence(lambda n: f'Engineers are working on the storage controller (update {n}).')

    @classmethod
    def _create(cls, model_class, *args, major_incident, actor: Actor = SYSTEM, **kwargs):
        return services.major_post_update(major=major_incident, actor=actor, **kwargs)


class UpdateTemplateFactory(DjangoModelFactory):
    class Meta:
        model = UpdateTemplate

    name = factory.Sequence(lambda n: f'Update template {n}')
    audience = UpdateAudience.PUBLIC
    status = UpdateStatus.INVESTIGATING
    subject = '{number}: {title}'
    body = 'We are investigating a problem with {services}. Next update by {next_update}.'


class CandidateFactory(DjangoModelFactory):
    """A flood candidate: `size` incidents on one service, proposed (or the one the detection already proposed)."""

    class Meta:
        model = MajorIncidentCandidate

    @classmethod
    def _create(cls, model_class, *args, size: int = 3, service=None, status: str = CandidateStatus.PROPOSED, **kw):
        service = service or make_public_service()
        incidents = [
            make_ticket(short_description=f'{service.name} is down ({n})', service=service) for n in range(size)
        ]
        scope = f'service:{service.pk}'
        candidate = MajorIncidentCandidate.objects.filter(scope=scope, status=CandidateStatus.PROPOSED).first()
        if candidate is None:
            candidate = MajorIncidentCandidate.objects.create(
                reason=CandidateReason.FLOOD,
                incident=incidents[-1],
                service=service,
                scope=scope,
                incident_count=size,
            )
        candidate.incidents.add(*incidents)
        MajorIncidentCandidate.objects.filter(pk=candidate.pk).update(incident_count=candidate.incidents.count())
        if status == CandidateStatus.DISMISSED:
            from major_incidents.candidates import candidate_dismiss

            candidate = candidate_dismiss(candidate=candidate, actor=SYSTEM, reason='A planned maintenance window.')
        return MajorIncidentCandidate.objects.get(pk=candidate.pk)


class ReviewFactory(DjangoModelFactory):
    """The review of a restored major incident (one in review is made when none is given)."""

    class Meta:
        model = PostIncidentReview

    @classmethod
    def _create(cls, model_class, *args, major_incident=None, actor: Actor = SYSTEM, **fields):
        major = major_incident or MajorIncidentFactory(state=S.REVIEW)
        return write_review(major, actor=actor, **fields)


class ActionItemFactory(DjangoModelFactory):
    class Meta:
        model = ActionItem

    review = factory.SubFactory(ReviewFactory)
    description = factory.Sequence(lambda n: f'Warm the standby cache before fail-over ({n})')
    owner = factory.LazyFunction(lambda: make_user(Role.L3_ENGINEER))
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))

    @classmethod
    def _create(cls, model_class, *args, review, actor: Actor = SYSTEM, **kwargs):
        if find_spec('major_incidents.review') is not None:
            from major_incidents.review import action_item_add

            return action_item_add(review=review, actor=actor, **kwargs)
        return ActionItem.objects.create(review=review, **kwargs)


class RecipientFactory(DjangoModelFactory):
    """An address added by hand through `recipient_add`."""

    class Meta:
        model = Recipient

    major_incident = factory.SubFactory(MajorIncidentFactory)
    email = factory.Sequence(lambda n: f'listener{n}@example.com')
    name = ''

    @classmethod
    def _create(cls, model_class, *args, major_incident, actor: Actor = SYSTEM, **kwargs):
        return services.recipient_add(major=major_incident, actor=actor, **kwargs)


class ChildFactory(DjangoModelFactory):
    """An incident (a new one on the major incident's first service unless given) linked as a child."""

    class Meta:
        model = MajorIncidentChild

    major_incident = factory.SubFactory(MajorIncidentFactory)

    @classmethod
    def _create(cls, model_class, *args, major_incident, incident=None, actor: Actor = SYSTEM, **kwargs):
        if incident is None:
            service = major_incident.services.first()
            incident = make_ticket(short_description='Cannot reach the service', service=service, **kwargs)
        services.major_link_children(major=major_incident, actor=actor, incidents=[incident])
        return MajorIncidentChild.objects.get(incident=incident)


class ValidationFactory(DjangoModelFactory):
    """A validation by the service owner (or the business owner) of a major incident in review."""

    class Meta:
        model = Validation

    major_incident = factory.SubFactory(MajorIncidentFactory, state=S.REVIEW)
    role = ValidationRole.SERVICE_OWNER

    @classmethod
    def _create(cls, model_class, *args, major_incident, role: str = ValidationRole.SERVICE_OWNER, **kwargs):
        major = _owners(major_incident)
        if role == ValidationRole.BUSINESS_OWNER and major.service_owner_id != major.business_owner_id:
            person = major.business_owner
        else:
            person = major.service_owner
        return services.major_validate(major=major, actor=Actor(user=person), **kwargs)
