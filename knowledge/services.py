"""Every write to knowledge articles (domain §12): drafting, editing, review, publishing versions, retiring, votes,
views, reuse in resolutions, deflections in the portal and articles made from known errors.

Each function takes the acting `Actor`, runs in one transaction (the view counter excepted: it is one UPDATE and
an upsert), records the timeline and announces itself through `itsm.hooks`; every move of the state goes through
`KNOWLEDGE_ACTIONS`, so the `transitioned` hook fires for each. Pages, the API, tasks and other apps come through
here.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from itsm import audit, hooks
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import TimelineEntry
from itsm.workflow import lock

from .actions import KNOWLEDGE_ACTIONS, WRITER_ROLES, is_knowledge_manager, may_write
from .choices import ArticleState, ArticleType, Audience
from .models import Article, ArticleUse, ArticleVersion, ArticleViewDay, ArticleVote, Deflection
from .search import index_article

S = ArticleState
# Integrations write articles too (docs as code imports them); requesters never do.
CREATOR_ROLES = (*WRITER_ROLES, Role.INTEGRATION)
EDITABLE_FIELDS = {
    'title',
    'body',
    'summary',
    'article_type',
    'audience',
    'owner',
    'review_by',
    'services',
    'cis',
    'categories',
}
MANY = ('services', 'cis', 'categories')
COMMENT_LENGTH = ArticleVote._meta.get_field('comment').max_length
QUERY_LENGTH = Deflection._meta.get_field('query').max_length


# ------------------------------------------------------------------------------------------------ dates
def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved `months` calendar months on (the 31st becomes the month's last day where it has fewer)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review_date(today: dt.date | None = None) -> dt.date:
    return add_months(today or timezone.localdate(), int(getattr(settings, 'KNOWLEDGE_REVIEW_MONTHS', 12)))


def _require_creator(actor: Actor) -> None:
    user = actor.user
    if user is not None and (user.is_requester_only or not user.has_role(*CREATOR_ROLES)):
        raise NotAllowed('Only the desk and knowledge managers write articles.')


def _require_staff(actor: Actor, what: str) -> None:
    user = actor.user
    if user is not None and (not user.is_authenticated or user.is_requester_only):
        raise NotAllowed(f'Only the desk can {what}.')


def _items(values: Iterable | None) -> list:
    """Configuration items as given, a `cmdb.Service` standing for its CI."""
    return [getattr(value, 'ci', value) for value in values or ()]


def _text(value: Any) -> str:
    return (value or '').strip()


def _validate(article: Article, services: Iterable | None = None) -> None:
    errors: dict[str, str] = {}
    if not article.short_description:
        errors['title'] = 'Give the article a title: the question or task it answers.'
    if not article.body:
        errors['body'] = 'Write the article: its body is empty.'
    if article.article_type not in ArticleType.values:
        errors['article_type'] = f'"{article.article_type}" is not an article type.'
    if article.audience not in Audience.values:
        errors['audience'] = f'"{article.audience}" is not an audience: agents or everyone.'
    if article.owner_id and (not article.owner.is_active or article.owner.is_requester_only):
        errors['owner'] = f'{article.owner} cannot own an article: an owner works on the desk.'
    not_services = [item.number for item in services or () if item.ci_class != 'service']
    if not_services:
        errors['services'] = f'Not services: {", ".join(not_services)}.'
    if errors:
        raise ValidationError(errors)
    article.full_clean(exclude=['number', 'owner', 'opened_by', 'assignment_group', 'assignee', 'published_version'])


def last_editor(article: Article):
    """Who last edited the working copy (else who opened it): the author of the version being published."""
    entry = (
        TimelineEntry.objects.filter(
            content_type__app_label='knowledge',
            content_type__model='article',
            object_id=article.pk,
            kind__in=(TimelineKind.CREATED, TimelineKind.FIELD_CHANGE),
            actor__isnull=False,
        )
        .order_by('-at', '-pk')
        .select_related('actor')
        .first()
    )
    return entry.actor if entry is not None else article.opened_by


# ------------------------------------------------------------------------------------------------ create
@transaction.atomic
def article_create(
    *,
    actor: Actor,
    title: str,
    body: str,
    article_type: str = ArticleType.HOW_TO,
    audience: str = Audience.AGENTS,
    summary: str = '',
    owner=None,
    review_by: dt.date | None = None,
    services: Iterable = (),
    cis: Iterable = (),
    categories: Iterable = (),
    known_error=None,
) -> Article:
    """Draft an article. Its writer owns it unless someone else is named."""
    _require_creator(actor)
    services, cis, categories = _items(services), _items(cis), list(categories or ())
    if owner is None and actor.user is not None and not actor.user.has_role(Role.INTEGRATION):
        owner = actor.user
    article = Article(
        short_description=_text(title),
        body=(body or '').strip('\n'),
        article_type=article_type,
        audience=audience,
        summary=_text(summary),
        owner=owner,
        review_by=review_by,
        known_error=known_error,
        opened_by=actor.user,
        opened_at=timezone.now(),
        state=S.DRAFT,
    )
    _validate(article, services)
    article.save()
    article.services.set(services)
    article.cis.set(cis)
    article.categories.set(categories)
    audit.record_created(article, actor=actor, message='Article drafted', public=False)
    hooks.emit(hooks.CREATED, article, actor=actor, notify=True)
    return article


# ------------------------------------------------------------------------------------------------- edits
@transaction.atomic
def article_update(*, article: Article, actor: Actor, **fields: Any) -> Article:
    """Edit the working copy: in draft by its writers, in review by knowledge managers only. A published article
    is revised first (readers keep the published version meanwhile); a retired one is restored first."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    article = lock(article)
    user = actor.user
    if user is not None and not may_write(article, user):
        raise NotAllowed('Only the desk and knowledge managers can edit articles.')
    if article.state == S.PUBLISHED:
        raise Conflict(
            f'{article.number} is published: start a new version (revise) to edit it; readers keep version '
            f'{article.version} until the new one is published.',
            code='published',
        )
    if article.state == S.RETIRED:
        raise Conflict(f'{article.number} is retired: restore it as a draft to edit it.', code='retired')
    if article.state == S.REVIEW and user is not None and not is_knowledge_manager(user):
        raise NotAllowed(f'{article.number} is in review: only a knowledge manager edits it now (or requests changes).')
    before = audit.snapshot(article)
    for name, value in fields.items():
        if name in MANY:
            continue
        if name == 'title':
            article.short_description = _text(value)
        elif name == 'body':
            article.body = (value or '').strip('\n')
        elif name == 'summary':
            article.summary = _text(value)
        else:
            setattr(article, name, value)
    if 'services' in fields:
        fields['services'] = _items(fields['services'])
    if 'cis' in fields:
        fields['cis'] = _items(fields['cis'])
    services = fields.get('services')
    _validate(article, services)
    article.save()
    for name in MANY:
        if name in fields:
            getattr(article, name).set(list(fields[name] or ()))
    audit.record_changes(article, before, actor=actor)
    hooks.emit(hooks.CHANGED, article, actor=actor)
    return article


# -------------------------------------------------------------------------------------------- lifecycle
@transaction.atomic
def article_submit(*, article: Article, actor: Actor, note: str = '') -> Article:
    """Draft → In review: a knowledge manager approves it or sends it back."""
    article = lock(article)
    KNOWLEDGE_ACTIONS.check(article, 'submit', actor)
    _validate(article)
    KNOWLEDGE_ACTIONS.run(article, 'submit', actor=actor, message=_text(note), public=False)
    return article


@transaction.atomic
def article_request_changes(*, article: Article, actor: Actor, reason: str) -> Article:
    """In review → Draft, with what to change."""
    if not _text(reason):
        raise ValidationError({'reason': 'Say what needs to change.'})
    article = lock(article)
    KNOWLEDGE_ACTIONS.run(
        article,
        'request_changes',
        actor=actor,
        message=_text(reason),
        data={'reason': _text(reason)},
        public=False,
    )
    return article


@transaction.atomic
def article_publish(*, article: Article, actor: Actor, change_note: str = '') -> Article:
    """In review → Published: the working copy becomes the next version readers see (every version is kept).
    A review date that is missing or past moves to today + KNOWLEDGE_REVIEW_MONTHS."""
    article = lock(article)
    KNOWLEDGE_ACTIONS.check(article, 'publish', actor)
    _validate(article)
    now = timezone.now()
    version = ArticleVersion.objects.create(
        article=article,
        version=article.version + 1,
        title=article.short_description,
        summary=article.summary,
        body=article.body,
        article_type=article.article_type,
        audience=article.audience,
        change_note=_text(change_note)[:300],
        author=last_editor(article),
        approved_by=actor.user,
        published_at=now,
    )
    changes: dict[str, Any] = {
        'published_version': version,
        'version': version.version,
        'published_at': now,
        'retired_at': None,
        'retire_reason': '',
    }
    if article.review_by is None or article.review_by < timezone.localdate():
        changes['review_by'] = next_review_date()
    KNOWLEDGE_ACTIONS.run(
        article,
        'publish',
        actor=actor,
        changes=changes,
        message=f'Version {version.version} published' + (f': {version.change_note}' if version.change_note else ''),
        data={'version': version.version},
        public=False,
    )
    index_article(article)
    return article


@transaction.atomic
def article_revise(*, article: Article, actor: Actor, note: str = '') -> Article:
    """Published → Draft: the working copy opens for the next version; readers keep the published one."""
    article = lock(article)
    KNOWLEDGE_ACTIONS.run(article, 'revise', actor=actor, message=_text(note), public=False)
    return article


@transaction.atomic
def article_retire(*, article: Article, actor: Actor, reason: str) -> Article:
    """Draft, In review or Published → Retired: readers no longer find it (its versions stay kept)."""
    if not _text(reason):
        raise ValidationError({'reason': 'Say why the article is retired.'})
    article = lock(article)
    changes = {'retired_at': timezone.now(), 'retire_reason': _text(reason)[:300]}
    KNOWLEDGE_ACTIONS.run(
        article, 'retire', actor=actor, changes=changes, message=_text(reason), data={'reason': _text(reason)}
    )
    index_article(article)
    return article


@transaction.atomic
def article_restore(*, article: Article, actor: Actor, note: str = '') -> Article:
    """Retired → Draft. Readers do not see it until it is published again; its versions stay and the version
    numbers keep counting."""
    article = lock(article)
    changes = {'published_version': None, 'retired_at': None, 'retire_reason': ''}
    KNOWLEDGE_ACTIONS.run(article, 'restore', actor=actor, changes=changes, message=_text(note), public=False)
    index_article(article)
    return article


# ---------------------------------------------------------------------------------------- readers' signals
@transaction.atomic
def article_vote(*, article: Article, actor: Actor, helpful: bool, comment: str = '') -> ArticleVote:
    """Helpful or not, once per person: a new vote replaces theirs and the counters move with it (the timeline
    records the counters, never the comment). The comment is kept as plain text (pages escape it)."""
    article = lock(article)  # votes on one article queue up, so each counter move is recorded against the last
    KNOWLEDGE_ACTIONS.check(article, 'vote', actor)
    comment = _text(comment)
    if len(comment) > COMMENT_LENGTH:
        raise ValidationError({'comment': f'Keep the comment within {COMMENT_LENGTH} characters.'})
    helpful = bool(helpful)
    counter, other = ('helpful_count', 'not_helpful_count') if helpful else ('not_helpful_count', 'helpful_count')
    before = audit.snapshot(article)
    vote = ArticleVote.objects.filter(article=article, voter=actor.user).first()
    if vote is None:
        vote = ArticleVote.objects.create(
            article=article, voter=actor.user, helpful=helpful, comment=comment, version=article.version
        )
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    else:
        if vote.helpful != helpful:
            Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1, other: F(other) - 1})
        vote.helpful, vote.comment, vote.version = helpful, comment, article.version
        vote.save()
    article.refresh_from_db(fields=['helpful_count', 'not_helpful_count'])
    audit.record_changes(article, before, actor=actor, message='Rated helpful' if helpful else 'Rated not helpful')
    return vote


def article_viewed(*, article: Article, user) -> None:
    """Count one view of a live article (staff and requesters alike): the counter and the day's row. Two queries
    on a day that already has its row; a race to create that row falls back to updating it."""
    if not article.is_live:
        return
    Article.objects.filter(pk=article.pk).update(view_count=F('view_count') + 1)
    day = timezone.localdate()
    if ArticleViewDay.objects.filter(article_id=article.pk, day=day).update(views=F('views') + 1):
        return
    try:
        with transaction.atomic():
            ArticleViewDay.objects.create(article_id=article.pk, day=day, views=1)
    except IntegrityError:  # another request created today's row in between
        ArticleViewDay.objects.filter(article_id=article.pk, day=day).update(views=F('views') + 1)


@transaction.atomic
def article_use(*, article: Article, incident, actor: Actor) -> ArticleUse:
    """Record that a live article helped resolve an incident; once per article and incident. The incident is marked
    as solved with knowledge, and both timelines say so."""
    from incidents.models import Ticket

    _require_staff(actor, 'record that an article resolved an incident')
    if incident.kind != TicketKind.INCIDENT:
        raise ValidationError({'incident': f'{incident.number} is a case, not an incident.'})
    if not article.is_live:
        raise Conflict(
            f'{article.number} is not published: only a live article can resolve an incident.', code='not_live'
        )
    existing = ArticleUse.objects.filter(article=article, incident=incident).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            use = ArticleUse.objects.create(article=article, incident=incident, used_by=actor.user)
    except IntegrityError:  # recorded by someone else meanwhile
        return ArticleUse.objects.get(article=article, incident=incident)
    Article.objects.filter(pk=article.pk).update(use_count=F('use_count') + 1)
    Ticket.objects.filter(pk=incident.pk).update(knowledge_used=True)
    incident.knowledge_used = True
    data = {'article': article.number, 'incident': incident.number}
    audit.record(incident, actor=actor, kind=TimelineKind.LINK, message=f'Resolved with {article.number}', data=data)
    audit.record(article, actor=actor, kind=TimelineKind.LINK, message=f'Helped resolve {incident.number}', data=data)
    return use


@transaction.atomic
def deflect(*, article: Article, actor: Actor, query: str = '') -> Deflection:
    """The requester says a live article solved what they came to report: no ticket needed."""
    user = actor.user
    if user is not None and not Article.objects.readable_by(user).filter(pk=article.pk).exists():
        raise NotAllowed(f'{article.number} is not an article you can read.')
    if user is None and not article.is_live:
        raise Conflict(f'{article.number} is not published.', code='not_live')
    deflection = Deflection.objects.create(article=article, requester=user, query=_text(query)[:QUERY_LENGTH])
    Article.objects.filter(pk=article.pk).update(deflection_count=F('deflection_count') + 1)
    return deflection


# ------------------------------------------------------------------------------------ known error → article
def known_error_body(known_error) -> str:
    """The article text for a known error: symptoms, workaround and the root cause when known (Markdown)."""
    parts = ['## Symptoms', known_error.symptoms.strip(), '## Workaround', known_error.workaround.strip()]
    if (known_error.root_cause or '').strip():
        parts += ['## Root cause', known_error.root_cause.strip()]
    return '\n\n'.join(parts) + '\n'


@transaction.atomic
def article_from_known_error(*, known_error, actor: Actor) -> Article:
    """Publish a known error's workaround as an article, linked to it. A knowledge manager publishes it at once;
    other staff send it to review. One live or in-progress article per known error."""
    from problems.models import KnownError

    _require_creator(actor)
    known_error = lock(known_error) if isinstance(known_error, KnownError) else known_error
    existing = Article.objects.filter(known_error=known_error).exclude(state=S.RETIRED).first()
    if existing is not None:
        raise Conflict(
            f'{known_error.number} already has article {existing.number} ({existing.get_state_display().lower()}).',
            code='exists',
            extra={'article': existing.number},
        )
    article = article_create(
        actor=actor,
        title=known_error.title,
        body=known_error_body(known_error),
        article_type=ArticleType.KNOWN_ERROR,
        audience=Audience.EVERYONE if known_error.public else Audience.AGENTS,
        summary=f'Workaround for known error {known_error.number}.',
        services=known_error.services.all(),
        cis=known_error.cis.all(),
        known_error=known_error,
    )
    audit.record(
        known_error,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Published as article {article.number}',
        data={'article': article.number},
    )
    article = article_submit(article=article, actor=actor, note=f'From known error {known_error.number}')
    if actor.user is None or is_knowledge_manager(actor.user):
        article = article_publish(article=article, actor=actor, change_note=f'From known error {known_error.number}')
    return article


__all__ = [
    'add_months',
    'article_create',
    'article_from_known_error',
    'article_publish',
    'article_request_changes',
    'article_restore',
    'article_retire',
    'article_revise',
    'article_submit',
    'article_update',
    'article_use',
    'article_viewed',
    'article_vote',
    'deflect',
    'index_article',
    'known_error_body',
    'last_editor',
    'next_review_date',
]
