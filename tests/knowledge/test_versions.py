"""Comparing versions: field changes, a line diff of the body, the working copy as one side, text never marked
safe."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeData

from itsm.audit import Actor
from knowledge import services
from knowledge.choices import ArticleState
from knowledge.models import Article
from knowledge.versions import Kind, changed, compare
from tests.knowledge.factories import ArticleFactory, VersionFactory, make_knowledge_manager

pytestmark = pytest.mark.django_db


def rows_of(rows, field):
    return [(row.kind, row.text) for row in rows if row.field == field]


def test_two_versions_differ_by_field_and_by_line():
    first = VersionFactory(title='Reset the VPN', body='Open the portal.\nClick reset.\nDone.', summary='Quick')
    second = VersionFactory(
        article=first.article,
        title='Reset the VPN password',
        body='Open the portal.\nChoose Reset.\nDone.',
        audience='everyone',
    )
    assert (first.version, second.version) == (1, 2)
    rows = compare(first, second)
    assert rows_of(rows, 'title') == [(Kind.REMOVED, 'Reset the VPN'), (Kind.ADDED, 'Reset the VPN password')]
    assert rows_of(rows, 'article_type') == [(Kind.SAME, 'How-to')]
    assert rows_of(rows, 'audience') == [(Kind.REMOVED, 'Agents only'), (Kind.ADDED, 'Requesters and agents')]
    assert rows_of(rows, 'summary') == [(Kind.SAME, 'Quick')]
    assert rows_of(rows, 'body') == [
        (Kind.SAME, 'Open the portal.'),
        (Kind.REMOVED, 'Click reset.'),
        (Kind.ADDED, 'Choose Reset.'),
        (Kind.SAME, 'Done.'),
    ]
    assert changed(rows)
    assert not changed(compare(second, second))


def test_the_working_copy_compares_with_the_published_version():
    article = ArticleFactory(state=ArticleState.PUBLISHED, body='Line one\n')
    manager = make_knowledge_manager()
    actor = Actor(user=manager, channel='ui')
    services.article_revise(article=article, actor=actor)
    services.article_update(article=article, actor=actor, body='Line one\nLine two\n', summary='')
    article = Article.objects.get(pk=article.pk)
    rows = compare(article.published_version, article)
    assert rows_of(rows, 'body') == [(Kind.SAME, 'Line one'), (Kind.ADDED, 'Line two')]
    assert rows_of(rows, 'summary') == [(Kind.REMOVED, 'Reset it yourself in two minutes.')]


def test_nothing_before_means_everything_is_added():
    version = VersionFactory(body='a\nb')
    rows = compare(None, version)
    assert {row.kind for row in rows} == {Kind.ADDED}
    assert rows_of(rows, 'body') == [(Kind.ADDED, 'a'), (Kind.ADDED, 'b')]


def test_row_text_is_plain_and_a_template_escapes_it():
    first = VersionFactory(body='Safe line')
    second = VersionFactory(article=first.article, body='<script>alert(1)</script>')
    rows = compare(first, second)
    added = [row for row in rows if row.field == 'body' and row.kind == Kind.ADDED]
    assert not any(isinstance(row.text, SafeData) for row in rows)
    html = Template('{% for row in rows %}{{ row.text }}{% endfor %}').render(Context({'rows': added}))
    assert html == '&lt;script&gt;alert(1)&lt;/script&gt;'
