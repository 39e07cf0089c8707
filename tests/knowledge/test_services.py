"""Knowledge article services: drafting and editing rules, review and publishing versions, retiring and restoring,
votes, views, reuse in incidents, deflections and articles made from known errors."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, InvalidTransition, NotAllowed
from itsm.models import TimelineEntry
from knowledge import services
from knowledge.choices import ArticleState, ArticleType, Audience
from knowledge.models import Article, ArticleVersion, ArticleViewDay, ArticleVote, Deflection
from knowledge.search import search_articles
from tests.cmdb.factories import make_ci, make_service
from tests.concurrency import run_in_parallel
from tests.factories import make_ticket, make_user
from tests.knowledge.factories import (
    ArticleFactory,
    UseFactory,
    VoteFactory,
    make_knowledge_manager,
    make_writer,
    publish,
)
from tests.problems.factories import KnownErrorFactory

pytestmark = pytest.mark.django_db
S = ArticleState
SYSTEM = Actor.system()


def act(user) -> Actor:
    return Actor(user=user, channel='ui')


def fresh(article) -> Article:
    return Article.objects.get(pk=article.pk)


def entries(obj, kind=None):
    found = TimelineEntry.objects.for_object(obj).order_by('id')
    return found.filter(kind=kind) if kind else found


@pytest.fixture
def people():
    return {
        'manager': make_knowledge_manager(),
        'writer': make_writer(),
        'other_writer': make_writer(),
        'requester': make_user(Role.REQUESTER),
        'cab': make_user(Role.CAB_MEMBER) if hasattr(Role, 'CAB_MEMBER') else make_user(Role.CHANGE_MANAGER),
    }


# ------------------------------------------------------------------------------------------------ create
def test_a_writer_drafts_an_article_and_owns_it(people):
    service = make_service('E-mail').ci
    article = services.article_create(
        actor=act(people['writer']),
        title='  Reset a VPN password ',
        body='## Steps\n\n1. Open the portal.',
        article_type=ArticleType.FAQ,
        services=[service],
    )
    article = fresh(article)
    assert article.number.startswith('KB') and article.state == S.DRAFT
    assert article.title == 'Reset a VPN password'
    assert article.owner == people['writer'] and article.opened_by == people['writer']
    assert list(article.services.all()) == [service]
    assert article.published_version is None and article.version == 0 and not article.is_live
    assert entries(article, TimelineKind.CREATED).count() == 1


def test_requesters_cannot_write_articles(people):
    with pytest.raises(NotAllowed):
        services.article_create(actor=act(people['requester']), title='Mine', body='Text')


@pytest.mark.parametrize(
    ('fields', 'field'),
    [
        ({'title': '  ', 'body': 'Text'}, 'title'),
        ({'title': 'A title', 'body': ''}, 'body'),
        ({'title': 'A title', 'body': 'Text', 'audience': 'world'}, 'audience'),
        ({'title': 'A title', 'body': 'Text', 'article_type': 'poem'}, 'article_type'),
    ],
)
def test_create_refuses_bad_input_naming_the_field(people, fields, field):
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=act(people['writer']), **fields)
    assert field in error.value.message_dict


def test_only_services_go_in_services(people):
    server = make_ci(name='mail-01')
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=act(people['writer']), title='T', body='B', services=[server])
    assert 'services' in error.value.message_dict


def test_a_requester_cannot_own_an_article(people):
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=act(people['writer']), title='T', body='B', owner=people['requester'])
    assert 'owner' in error.value.message_dict


# ------------------------------------------------------------------------------------------------- edits
def test_edits_in_draft_are_recorded(people):
    article = ArticleFactory(author=people['writer'])
    services.article_update(article=article, actor=act(people['writer']), title='New title', body='New body')
    article = fresh(article)
    assert (article.title, article.body) == ('New title', 'New body')
    assert entries(article, TimelineKind.FIELD_CHANGE).count() == 1


def test_unknown_fields_are_refused(people):
    article = ArticleFactory()
    with pytest.raises(ValidationError) as error:
        services.article_update(article=article, actor=act(people['writer']), view_count=1000)
    assert 'view_count' in error.value.message_dict


def test_in_review_only_a_knowledge_manager_edits(people):
    article = ArticleFactory(state=S.REVIEW)
    with pytest.raises(NotAllowed):
        services.article_update(article=article, actor=act(people['writer']), body='Sneaky edit')
    services.article_update(article=article, actor=act(people['manager']), body='Editorial fix')
    assert fresh(article).body == 'Editorial fix'


def test_a_published_article_is_revised_before_it_is_edited(people):
    article = ArticleFactory(state=S.PUBLISHED, body='Version one')
    with pytest.raises(Conflict, match='revise'):
        services.article_update(article=article, actor=act(people['writer']), body='Version two')
    services.article_revise(article=article, actor=act(people['writer']))
    services.article_update(article=article, actor=act(people['writer']), body='Version two')
    article = fresh(article)
    # Readers still see version 1 while version 2 is drafted.
    assert article.is_live and article.state == S.DRAFT
    assert article.published_version.body == 'Version one' and article.body == 'Version two'
    assert article in Article.objects.readable_by(people['writer'])


def test_a_retired_article_is_restored_before_it_is_edited(people):
    article = ArticleFactory(state=S.RETIRED)
    with pytest.raises(Conflict, match='restore'):
        services.article_update(article=article, actor=act(people['manager']), body='Edit')


def test_staff_who_do_not_write_cannot_edit(people):
    reader = make_user(Role.CHANGE_MANAGER)
    article = ArticleFactory()
    with pytest.raises(NotAllowed):
        services.article_update(article=article, actor=act(reader), body='Edit')


# -------------------------------------------------------------------------------------------- lifecycle
def test_publishing_snapshots_a_version_and_sets_the_review_date(people, settings):
    settings.KNOWLEDGE_REVIEW_MONTHS = 6
    article = ArticleFactory(author=people['writer'], state=S.REVIEW, title='Printer jams', summary='Clear it.')
    services.article_publish(article=article, actor=act(people['manager']), change_note='First cut')
    article = fresh(article)
    version = article.published_version
    assert article.state == S.PUBLISHED and article.version == 1 and version.version == 1
    assert (version.title, version.summary, version.body) == ('Printer jams', 'Clear it.', article.body)
    assert version.author == people['writer'] and version.approved_by == people['manager']
    assert version.change_note == 'First cut' and article.published_at == version.published_at
    assert article.review_by == services.add_months(timezone.localdate(), 6)


def test_a_later_review_date_is_kept_and_a_past_one_moves_on(people):
    later = timezone.localdate() + dt.timedelta(days=40)
    article = ArticleFactory(state=S.PUBLISHED, review_by=later)
    assert fresh(article).review_by == later
    past = timezone.localdate() - dt.timedelta(days=1)
    article = ArticleFactory(state=S.PUBLISHED, review_by=past)
    assert fresh(article).review_by > timezone.localdate()


def test_the_author_is_who_last_edited_the_working_copy(people):
    article = ArticleFactory(author=people['writer'], state=S.PUBLISHED)
    services.article_revise(article=article, actor=act(people['other_writer']))
    services.article_update(article=article, actor=act(people['other_writer']), body='Better steps')
    publish(article, people['manager'], change_note='Clearer steps')
    article = fresh(article)
    assert article.version == 2
    assert list(article.versions.values_list('version', 'author')) == [
        (2, people['other_writer'].pk),
        (1, people['writer'].pk),
    ]
    assert article.published_version.body == 'Better steps'


def test_only_knowledge_managers_publish_and_send_back(people):
    article = ArticleFactory(state=S.REVIEW)
    with pytest.raises(NotAllowed):
        services.article_publish(article=article, actor=act(people['writer']))
    with pytest.raises(NotAllowed):
        services.article_request_changes(article=article, actor=act(people['writer']), reason='Typos')
    assert not ArticleVersion.objects.filter(article=article).exists()


def test_publishing_a_draft_is_refused_until_it_is_reviewed(people):
    article = ArticleFactory()
    with pytest.raises(InvalidTransition):
        services.article_publish(article=article, actor=act(people['manager']))


def test_request_changes_needs_a_reason_and_sends_it_back(people):
    article = ArticleFactory(state=S.REVIEW)
    with pytest.raises(ValidationError):
        services.article_request_changes(article=article, actor=act(people['manager']), reason=' ')
    services.article_request_changes(article=article, actor=act(people['manager']), reason='Add a screenshot.')
    article = fresh(article)
    assert article.state == S.DRAFT
    assert entries(article, TimelineKind.TRANSITION).last().message == 'Add a screenshot.'


def test_retire_hides_it_and_restore_makes_it_a_draft_readers_do_not_see(people):
    article = ArticleFactory(state=S.PUBLISHED, audience=Audience.EVERYONE)
    assert article in Article.objects.readable_by(people['requester'])
    with pytest.raises(ValidationError):
        services.article_retire(article=article, actor=act(people['manager']), reason='')
    services.article_retire(article=article, actor=act(people['manager']), reason='Old VPN client gone.')
    article = fresh(article)
    assert article.state == S.RETIRED and article.retire_reason == 'Old VPN client gone.' and article.retired_at
    assert article not in Article.objects.readable_by(people['requester'])
    assert article not in Article.objects.readable_by(people['writer'])
    services.article_restore(article=article, actor=act(people['manager']))
    article = fresh(article)
    assert article.state == S.DRAFT and article.published_version is None and not article.is_live
    assert article not in Article.objects.readable_by(people['writer'])
    assert article.versions.count() == 1 and article.version == 1
    publish(article, people['manager'])
    assert fresh(article).version == 2


def test_the_owner_may_retire_their_article_but_another_writer_may_not(people):
    article = ArticleFactory(author=people['writer'], state=S.PUBLISHED)
    with pytest.raises(NotAllowed):
        services.article_retire(article=article, actor=act(people['other_writer']), reason='Mine now')
    services.article_retire(article=article, actor=act(people['writer']), reason='Replaced by KB for v2.')
    assert fresh(article).state == S.RETIRED


def test_only_knowledge_managers_restore(people):
    article = ArticleFactory(author=people['writer'], state=S.RETIRED)
    with pytest.raises(NotAllowed):
        services.article_restore(article=article, actor=act(people['writer']))


def test_submit_and_publish_notify_managers_then_owner(people, django_capture_on_commit_callbacks):
    article = ArticleFactory(author=people['writer'])
    with django_capture_on_commit_callbacks(execute=True):
        services.article_submit(article=article, actor=act(people['writer']))
    assert [m.to for m in mail.outbox] == [[people['manager'].email]]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.article_publish(article=article, actor=act(people['manager']))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [people['writer'].email]
    assert 'version 1 is published' in mail.outbox[0].body


# ---------------------------------------------------------------------------------------------- votes
def test_one_vote_per_person_a_new_one_replaces_it(people):
    article = ArticleFactory(state=S.PUBLISHED, audience=Audience.EVERYONE)
    reader = people['requester']
    services.article_vote(article=article, actor=act(reader), helpful=True)
    assert (fresh(article).helpful_count, fresh(article).not_helpful_count) == (1, 0)
    services.article_vote(article=article, actor=act(reader), helpful=False, comment='<b>Step 3</b> is wrong')
    article = fresh(article)
    assert (article.helpful_count, article.not_helpful_count) == (0, 1)
    vote = ArticleVote.objects.get(article=article, voter=reader)
    assert vote.comment == '<b>Step 3</b> is wrong' and vote.version == 1  # kept as text; pages escape it
    services.article_vote(article=article, actor=act(reader), helpful=False, comment='Still wrong')
    assert (fresh(article).helpful_count, fresh(article).not_helpful_count) == (0, 1)
    VoteFactory(article=article, voter=people['writer'], helpful=True)
    assert (fresh(article).helpful_count, fresh(article).not_helpful_count) == (1, 1)


def test_votes_are_refused_on_drafts_and_on_desk_only_articles_for_requesters(people):
    draft = ArticleFactory()
    with pytest.raises(NotAllowed):
        services.article_vote(article=draft, actor=act(people['writer']), helpful=True)
    desk_only = ArticleFactory(state=S.PUBLISHED, audience=Audience.AGENTS)
    with pytest.raises(NotAllowed):
        services.article_vote(article=desk_only, actor=act(people['requester']), helpful=True)
    with pytest.raises(ValidationError):
        services.article_vote(article=desk_only, actor=act(people['writer']), helpful=True, comment='x' * 501)


# ---------------------------------------------------------------------------------------------- views
def test_views_count_per_article_and_day_in_two_queries(people):
    article = ArticleFactory(state=S.PUBLISHED, audience=Audience.EVERYONE)
    services.article_viewed(article=article, user=people['requester'])
    with CaptureQueriesContext(connection) as queries:
        services.article_viewed(article=article, user=people['writer'])
    assert len(queries) == 2
    assert fresh(article).view_count == 2
    assert ArticleViewDay.objects.get(article=article, day=timezone.localdate()).views == 2


def test_drafts_are_not_counted(people):
    article = ArticleFactory()
    services.article_viewed(article=article, user=people['writer'])
    assert fresh(article).view_count == 0 and not ArticleViewDay.objects.exists()


# ----------------------------------------------------------------------------------------------- reuse
def test_used_to_resolve_an_incident_once(people):
    article = ArticleFactory(state=S.PUBLISHED)
    incident = make_ticket()
    use = services.article_use(article=article, incident=incident, actor=act(people['writer']))
    again = services.article_use(article=article, incident=incident, actor=act(people['writer']))
    assert use.pk == again.pk and fresh(article).use_count == 1
    incident.refresh_from_db()
    assert incident.knowledge_used
    assert entries(incident, TimelineKind.LINK).filter(message__contains=article.number).count() == 1
    assert entries(article, TimelineKind.LINK).filter(message__contains=incident.number).count() == 1


def test_use_is_for_staff_on_incidents_with_live_articles(people):
    article = ArticleFactory(state=S.PUBLISHED)
    with pytest.raises(NotAllowed):
        services.article_use(article=article, incident=make_ticket(), actor=act(people['requester']))
    with pytest.raises(ValidationError):
        services.article_use(article=article, incident=make_ticket(kind='case'), actor=act(people['writer']))
    with pytest.raises(Conflict):
        services.article_use(article=ArticleFactory(), incident=make_ticket(), actor=act(people['writer']))
    assert UseFactory(article=article).article == article


# ------------------------------------------------------------------------------------------ deflections
def test_a_requester_deflects_with_an_article_they_may_read(people):
    article = ArticleFactory(state=S.PUBLISHED, audience=Audience.EVERYONE)
    deflection = services.deflect(article=article, actor=act(people['requester']), query='vpn  password')
    assert deflection.requester == people['requester'] and deflection.query == 'vpn  password'
    assert fresh(article).deflection_count == 1
    desk_only = ArticleFactory(state=S.PUBLISHED)
    with pytest.raises(NotAllowed):
        services.deflect(article=desk_only, actor=act(people['requester']))
    with pytest.raises(NotAllowed):
        services.deflect(article=ArticleFactory(audience=Audience.EVERYONE), actor=act(people['requester']))
    assert Deflection.objects.count() == 1


# ------------------------------------------------------------------------------------ known error → article
def test_a_knowledge_manager_publishes_a_known_error_at_once(people):
    service = make_service('Mail').ci
    known_error = KnownErrorFactory(services=[service], public=True)
    article = services.article_from_known_error(known_error=known_error, actor=act(people['manager']))
    article = fresh(article)
    assert article.state == S.PUBLISHED and article.version == 1 and article.known_error == known_error
    assert article.article_type == ArticleType.KNOWN_ERROR and article.audience == Audience.EVERYONE
    assert article.title == known_error.title
    assert known_error.symptoms in article.body and known_error.workaround in article.body
    assert known_error.root_cause in article.body
    assert list(article.services.all()) == [service]
    assert list(known_error.articles.all()) == [article]
    assert entries(known_error, TimelineKind.LINK).filter(message__contains=article.number).exists()


def test_other_staff_send_it_to_review_and_a_second_one_is_refused(people):
    known_error = KnownErrorFactory(public=False, root_cause='')
    article = services.article_from_known_error(known_error=known_error, actor=act(people['writer']))
    article = fresh(article)
    assert article.state == S.REVIEW and article.audience == Audience.AGENTS and not article.is_live
    assert 'Root cause' not in article.body
    with pytest.raises(Conflict, match=article.number):
        services.article_from_known_error(known_error=known_error, actor=act(people['manager']))
    services.article_retire(article=article, actor=act(people['manager']), reason='Rewritten')
    services.article_from_known_error(known_error=known_error, actor=act(people['manager']))
    assert known_error.articles.count() == 2


def test_requesters_cannot_make_articles_from_known_errors(people):
    with pytest.raises(NotAllowed):
        services.article_from_known_error(known_error=KnownErrorFactory(), actor=act(people['requester']))


def test_add_months_keeps_the_day_or_the_month_end():
    assert services.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert services.add_months(dt.date(2026, 11, 15), 12) == dt.date(2027, 11, 15)
    assert services.add_months(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)


def test_changes_requested_reach_the_owner_and_the_author(people, django_capture_on_commit_callbacks):
    article = ArticleFactory(state=S.PUBLISHED, author=people['writer'])
    services.article_revise(article=article, actor=act(people['other_writer']))
    services.article_update(article=article, actor=act(people['other_writer']), body='Longer steps')
    services.article_submit(article=article, actor=act(people['other_writer']))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.article_request_changes(article=article, actor=act(people['manager']), reason='Shorter, please.')
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([people['writer'].email, people['other_writer'].email])
    assert 'sent' in mail.outbox[0].body and article.number in mail.outbox[0].subject


def test_a_vote_records_the_counters_not_the_comment(people):
    article = ArticleFactory(state=S.PUBLISHED)
    services.article_vote(article=article, actor=act(people['writer']), helpful=False, comment='Private remark')
    entry = entries(article, TimelineKind.FIELD_CHANGE).last()
    assert entry.message == 'Rated not helpful' and not entry.public
    assert [(c['field'], c['before'], c['after']) for c in entry.changes] == [('not_helpful_count', 0, 1)]
    assert 'Private remark' not in str(entry.changes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_first_views_of_the_day_share_one_row():
    article = ArticleFactory(state=S.PUBLISHED, audience=Audience.EVERYONE)
    readers = [make_user(Role.REQUESTER) for _ in range(4)]
    results = run_in_parallel([partial(services.article_viewed, article=article, user=reader) for reader in readers])
    assert [r[0] for r in results] == ['ok'] * 4, results
    assert fresh(article).view_count == 4
    assert list(ArticleViewDay.objects.filter(article=article).values_list('views', flat=True)) == [4]


def test_search_finds_what_is_published_and_loses_what_is_retired(people):
    article = ArticleFactory(state=S.REVIEW, title='Calibrate the plotter', body='Use the calibration sheet.')
    assert search_articles('plotter', user=people['writer']).total == 0
    services.article_publish(article=article, actor=act(people['manager']))
    assert [hit.article for hit in search_articles('plotter', user=people['writer']).hits] == [fresh(article)]
    services.article_retire(article=article, actor=act(people['manager']), reason='Plotter gone.')
    assert search_articles('plotter', user=people['writer']).total == 0
