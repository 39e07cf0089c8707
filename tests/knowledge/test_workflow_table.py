"""Knowledge articles through the generated workflow tests (tests/workflow.py): every action of `KNOWLEDGE_ACTIONS`
from every article state, through the article pages and the API, with its timeline entry, its refusals (409 for the
state, 400 for missing input, 403 for people without the right) and the query count of the article page and its
API history as the timeline grows."""

from __future__ import annotations

from types import SimpleNamespace

from itsm import conversation
from itsm.audit import Actor
from itsm.choices import Role
from knowledge import services
from knowledge.choices import ArticleState
from knowledge.models import Article
from tests.factories import make_user
from tests.knowledge.factories import make_knowledge_manager, make_writer
from tests.workflow import API, UI, WorkflowTable

S = ArticleState
SYSTEM = Actor.system()
MANAGER_ACTIONS = ('publish', 'request_changes', 'restore')


class TestArticleWorkflow(WorkflowTable):
    model = Article
    api_base = '/api/v1/articles/'
    page_prefix = 'article'
    forbidden = {
        # Requesters never work on articles; staff who neither write nor manage them only read them.
        '*': ('requester', 'reader'),
        # Approving, sending back and restoring are the knowledge manager's: a writer may not.
        **{name: ('requester', 'reader', 'writer') for name in MANAGER_ACTIONS},
        # The owner or a knowledge manager retires; another writer may not.
        'retire': ('requester', 'reader', 'other_writer'),
        # Anyone who may read a live article rates it. These articles are for the desk: requesters are refused
        # before the action is asked (see below).
        'vote': (),
    }
    expected_changes = {
        'publish': {'published_version', 'version', 'published_at'},
        'retire': {'retired_at', 'retire_reason'},
        'restore': {'published_version', 'retired_at', 'retire_reason'},
        'vote': {'helpful_count'},
    }
    query_reads = ((UI, 'page'), (API, 'timeline'), (API, 'detail'))

    def make_people(self):
        return SimpleNamespace(
            manager=make_knowledge_manager(),
            writer=make_writer(),
            other_writer=make_writer(),
            reader=make_user(Role.CHANGE_MANAGER),
            voter=make_user(Role.L2_ENGINEER),
            requester=make_user(Role.REQUESTER),
        )

    def make_record(self, state):
        """Every article here was published once, so it is live in draft and review (a new version is being
        written) and readers can rate it; a retired one was published, then retired."""
        p = self.people
        writer, manager = Actor(user=p.writer, channel='ui'), Actor(user=p.manager, channel='ui')
        article = services.article_create(
            actor=writer, title='Connect to the office Wi-Fi', body='1. Choose **Office**.\n2. Sign in.\n'
        )
        article = services.article_submit(article=article, actor=writer)
        article = services.article_publish(article=article, actor=manager)
        if state in (S.DRAFT, S.REVIEW):
            article = services.article_revise(article=article, actor=writer)
            article = services.article_update(article=article, actor=writer, body='1. Choose **Office-5G**.\n')
        if state == S.REVIEW:
            article = services.article_submit(article=article, actor=writer)
        if state == S.RETIRED:
            article = services.article_retire(article=article, actor=manager, reason='The network was replaced.')
        return Article.objects.get(pk=article.pk)

    def actor_for(self, name, record, channel):
        p = self.people
        if name in MANAGER_ACTIONS:
            return p.manager
        return p.voter if name == 'vote' else p.writer

    def valid_input(self, name, record, channel):
        inputs = {
            'submit': {'note': 'Ready for a look.'},
            'publish': {'change_note': 'The 5 GHz network.'},
            'request_changes': {'reason': 'Add a screenshot of the network list.'},
            'revise': {'note': 'The SSID changes next week.'},
            'retire': {'reason': 'Covered by the onboarding guide.'},
            'restore': {'note': 'Still asked about.'},
        }
        if name in inputs:
            return inputs[name]
        if name == 'vote':
            if channel == API:
                return {'helpful': True, 'comment': 'Worked first time.'}
            return {'helpful': 'yes', 'comment': 'Worked first time.'}
        raise AssertionError(f'declare valid input for the new action "{name}" in {type(self).__name__}')

    def viewer(self):
        return self.people.manager

    def query_urls(self, record):
        return {
            'page': self.detail_url(record),
            'timeline': f'{self.api_base}{record.number}/timeline/',
            'detail': f'{self.api_base}{record.number}/',
        }

    def add_timeline_entries(self, record, count):
        p = self.people
        for i in range(count):
            author = Actor(user=(p.manager, p.writer)[i % 2])
            conversation.comment(record, actor=author, body=f'Review note {i}', internal=True)

    def test_collection_action(self):
        """Every article action acts on one article: none is routed apart (the generated test has no cases)."""
        assert [a.name for a in self.collection_actions()] == []
        assert all(a.detail for a in self.actions())

    def test_requesters_cannot_rate_desk_articles(self):
        record = self.make_record(S.PUBLISHED)
        before = self.observe(record)
        for channel in (UI, API):
            response = self.post(
                channel, 'vote', record, self.people.requester, self.valid_input('vote', record, channel)
            )
            assert response.status_code in (403, 404), f'{channel}: {self.describe(response)}'
        after = self.observe(record)
        assert (after.snapshot, after.entries) == (before.snapshot, before.entries)
