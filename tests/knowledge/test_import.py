"""Docs as code: a folder of Markdown files imports as articles, again without duplicates, and says what it could not
read; the command's output and exit status."""

from __future__ import annotations

import datetime as dt
import io
import textwrap

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import TimelineEntry
from knowledge.choices import ArticleState, ArticleType, Audience
from knowledge.importer import import_folder, parse_article
from knowledge.models import Article, ArticleVersion
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def write(folder, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding='utf-8')


@pytest.fixture
def manager():
    return make_user(Role.KNOWLEDGE_MANAGER, username='kb.manager')


@pytest.fixture
def vpn():
    return make_service('Remote access')


@pytest.fixture
def folder(tmp_path, vpn):
    write(
        tmp_path,
        'vpn.md',
        """
        ---
        title: Connect to the VPN
        type: How-to
        public: true
        services: [Remote access]
        categories: [Network / VPN]
        summary: Install the client and sign in.
        review_by: 2030-01-31
        ---
        Click **Connect** in the tray.
        """,
    )
    write(
        tmp_path,
        'desk/printer.md',
        """
        ---
        type: troubleshooting
        audience: agents
        ---
        # Printer queue stuck

        Cancel the first job, then print again.
        """,
    )
    return tmp_path


def test_import_creates_then_skips_unchanged_then_updates_changed(folder, manager, vpn):
    actor = Actor(user=manager)
    report = import_folder(folder, actor=actor)
    assert (report.created, report.updated, report.unchanged, report.failed) == (2, 0, 0, 0)

    vpn_article = Article.objects.get(source_path='vpn.md')
    assert vpn_article.title == 'Connect to the VPN'
    assert vpn_article.article_type == ArticleType.HOW_TO
    assert vpn_article.audience == Audience.EVERYONE
    assert vpn_article.summary == 'Install the client and sign in.'
    assert vpn_article.review_by == dt.date(2030, 1, 31)
    assert list(vpn_article.services.all()) == [vpn.ci]
    assert [str(c) for c in vpn_article.categories.all()] == ['Network › VPN']
    assert vpn_article.body == 'Click **Connect** in the tray.'
    assert vpn_article.state == ArticleState.DRAFT

    printer = Article.objects.get(source_path='desk/printer.md')
    assert printer.title == 'Printer queue stuck'  # from the heading, which leaves the body
    assert printer.body == 'Cancel the first job, then print again.'
    assert printer.article_type == ArticleType.TROUBLESHOOTING
    assert printer.audience == Audience.AGENTS

    again = import_folder(folder, actor=actor)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 2, 0)
    assert Article.objects.count() == 2

    (folder / 'vpn.md').write_text(
        (folder / 'vpn.md').read_text().replace('Click **Connect**', 'Choose **Connect**'), encoding='utf-8'
    )
    third = import_folder(folder, actor=actor)
    assert (third.created, third.updated, third.unchanged, third.failed) == (0, 1, 1, 0)
    vpn_article.refresh_from_db()
    assert vpn_article.body == 'Choose **Connect** in the tray.'
    assert Article.objects.count() == 2


def test_publish_publishes_and_a_changed_file_makes_the_next_version(folder, manager):
    actor = Actor(user=manager)
    report = import_folder(folder, actor=actor, publish=True)
    assert report.created == 2
    article = Article.objects.get(source_path='vpn.md')
    assert article.state == ArticleState.PUBLISHED
    assert article.version == 1 and article.is_live
    assert ArticleVersion.objects.get(article=article, version=1).approved_by == manager

    (folder / 'vpn.md').write_text((folder / 'vpn.md').read_text() + '\nThe icon turns green.\n', encoding='utf-8')
    report = import_folder(folder, actor=actor, publish=True)
    assert (report.updated, report.unchanged) == (1, 1)
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED and article.version == 2
    assert 'The icon turns green.' in article.published_version.body
    assert ArticleVersion.objects.filter(article=article).count() == 2


def test_a_changed_published_file_without_publish_drafts_the_next_version(folder, manager):
    actor = Actor(user=manager)
    import_folder(folder, actor=actor, publish=True)
    (folder / 'vpn.md').write_text((folder / 'vpn.md').read_text() + '\nMore.\n', encoding='utf-8')
    report = import_folder(folder, actor=actor)
    assert report.updated == 1
    article = Article.objects.get(source_path='vpn.md')
    assert article.state == ArticleState.DRAFT
    assert article.version == 1 and article.is_live  # readers keep version 1
    assert 'More.' in article.body and 'More.' not in article.published_version.body


def test_failed_files_are_reported_with_reasons_and_the_rest_import(folder, manager):
    (folder / 'latin1.md').write_bytes('---\ntitle: Caf\xe9\n---\nBody\n'.encode('latin-1'))
    write(folder, 'bad-yaml.md', '---\ntitle: [unclosed\n---\nBody\n')
    write(folder, 'bad-type.md', '---\ntitle: A\ntype: novel\n---\nBody\n')
    write(folder, 'bad-service.md', '---\ntitle: A\nservices: [Nope]\n---\nBody\n')
    write(folder, 'no-title.md', 'Just text, no heading.\n')
    write(folder, 'bad-owner.md', '---\ntitle: A\nowner: nobody\n---\nBody\n')
    write(folder, 'bad-date.md', '---\ntitle: A\nreview_by: soon\n---\nBody\n')
    write(folder, 'unclosed.md', '---\ntitle: A\nBody\n')
    report = import_folder(folder, actor=Actor(user=manager))
    assert report.created == 2
    reasons = {f.path: f.reason for f in report.failures}
    assert set(reasons) == {
        'latin1.md',
        'bad-yaml.md',
        'bad-type.md',
        'bad-service.md',
        'no-title.md',
        'bad-owner.md',
        'bad-date.md',
        'unclosed.md',
    }
    assert 'UTF-8' in reasons['latin1.md']
    assert 'YAML' in reasons['bad-yaml.md']
    assert 'unknown type "novel"' in reasons['bad-type.md']
    assert 'unknown service "Nope"' in reasons['bad-service.md']
    assert 'no title' in reasons['no-title.md']
    assert 'unknown owner "nobody"' in reasons['bad-owner.md']
    assert 'not a date' in reasons['bad-date.md']
    assert 'closing' in reasons['unclosed.md']
    assert Article.objects.count() == 2


def test_front_matter_variants():
    ci = make_ci(name='vpn-gw-01')
    make_service('Wi-Fi')
    owner = make_user(Role.L2_ENGINEER, username='net.engineer')
    parsed = parse_article(
        textwrap.dedent(
            """\
            ---
            Title: Known VPN drops
            type: known-error workaround
            audience: Requesters and agents
            services: Wi-Fi
            cis: [vpn-gw-01]
            categories: [VPN, Security]
            owner: net.engineer
            review_by: '2031-05-01'
            tags: [vpn]
            ---
            Reconnect from the tray.
            """
        ).encode()
    )
    assert parsed.title == 'Known VPN drops'
    assert parsed.article_type == ArticleType.KNOWN_ERROR
    assert parsed.audience == Audience.EVERYONE
    assert [s.name for s in parsed.services] == ['Wi-Fi']
    assert parsed.cis == [ci]
    assert sorted(str(c) for c in parsed.categories) == ['Network › VPN', 'Security']
    assert parsed.owner == owner
    assert parsed.review_by == dt.date(2031, 5, 1)
    assert parsed.warnings == ['ignored unknown front matter key "tags"']

    # Byte-order mark, no front matter, type by value, public: false.
    plain = parse_article('\ufeff# FAQ on laptops\n\nAnswers.\n'.encode())
    assert (plain.title, plain.body, plain.audience) == ('FAQ on laptops', 'Answers.\n', Audience.AGENTS)
    private = parse_article(b'---\ntitle: T\ntype: faq\npublic: false\n---\nBody\n')
    assert (private.article_type, private.audience) == (ArticleType.FAQ, Audience.AGENTS)


def test_retired_article_is_reported_not_overwritten(folder, manager):
    from knowledge import services

    actor = Actor(user=manager)
    import_folder(folder, actor=actor, publish=True)
    article = Article.objects.get(source_path='vpn.md')
    services.article_retire(article=article, actor=actor, reason='Replaced by the new client guide')
    (folder / 'vpn.md').write_text((folder / 'vpn.md').read_text() + '\nMore.\n', encoding='utf-8')
    report = import_folder(folder, actor=actor)
    assert [f.path for f in report.failures] == ['vpn.md']
    assert 'retired' in report.failures[0].reason
    article.refresh_from_db()
    assert article.state == ArticleState.RETIRED and 'More.' not in article.body


def test_the_importing_person_opens_and_owns_new_articles_and_the_timeline_says_so(folder, manager):
    import_folder(folder, actor=Actor(user=manager))
    article = Article.objects.get(source_path='vpn.md')
    assert article.opened_by == manager and article.owner == manager
    assert article.opened_at <= timezone.now()
    assert TimelineEntry.objects.for_object(article).filter(actor=manager).exists()


def test_an_unchanged_folder_costs_the_same_queries_however_many_files(folder, manager):
    actor = Actor(user=manager)
    import_folder(folder, actor=actor)
    small = count_queries(lambda: import_folder(folder, actor=actor))
    for n in range(4):
        write(folder, f'more/extra-{n}.md', f'# Extra {n}\n\nText {n}.\n')
    import_folder(folder, actor=actor)
    with CaptureQueriesContext(connection) as ctx:
        report = import_folder(folder, actor=actor)
    assert report.unchanged == 6
    assert len(ctx.captured_queries) == small == 1


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


# The command -----------------------------------------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command('import_articles', *args, stdout=out, stderr=err)
    except SystemExit as exit:
        code = exit.code
    except CommandError as error:  # as `manage.py` would exit with it
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def test_command_summary_and_exit_status(folder, manager):
    code, out, err = run(str(folder), '--publish', '--as', 'kb.manager')
    assert code == 0
    assert '2 files: 2 created, 0 updated, 0 unchanged, 0 failed' in out
    assert '\r' not in err  # not a terminal: no progress bar
    assert Article.objects.filter(state=ArticleState.PUBLISHED).count() == 2

    write(folder, 'broken.md', '---\ntitle: A\ntype: novel\n---\nBody\n')
    code, out, err = run(str(folder))
    assert code == 1
    assert '3 files: 0 created, 0 updated, 2 unchanged, 1 failed' in out
    assert 'broken.md: unknown type "novel"' in err


def test_command_missing_folder_exits_2(tmp_path):
    code, out, err = run(str(tmp_path / 'nowhere'))
    assert code == 2
    assert 'is not a folder' in err


def test_command_unknown_person(folder):
    with pytest.raises(CommandError, match='No active person'):
        call_command('import_articles', str(folder), '--as', 'ghost', stdout=io.StringIO(), stderr=io.StringIO())


def test_progress_bar_draws_on_a_terminal(folder, manager):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    call_command('import_articles', str(folder), stdout=io.StringIO(), stderr=err)
    assert '\r[' in err.getvalue() and '2/2 vpn.md' in err.getvalue()


def test_publishing_needs_a_knowledge_manager_and_a_refused_file_leaves_nothing(folder):
    agent = make_user(Role.SERVICE_DESK_AGENT)
    report = import_folder(folder, actor=Actor(user=agent), publish=True)
    assert report.failed == 2
    assert all('knowledge manager' in f.reason for f in report.failures)
    assert not Article.objects.exists()  # each file in its own transaction: nothing half-imported


def test_a_changed_file_of_an_article_in_review_is_updated_and_published(folder, manager):
    from knowledge import services

    actor = Actor(user=manager)
    import_folder(folder, actor=actor)
    article = Article.objects.get(source_path='vpn.md')
    services.article_submit(article=article, actor=actor)
    (folder / 'vpn.md').write_text((folder / 'vpn.md').read_text() + '\nReviewed.\n', encoding='utf-8')
    report = import_folder(folder, actor=actor, publish=True)
    assert report.updated == 1 and report.failed == 0
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED and 'Reviewed.' in article.published_version.body
