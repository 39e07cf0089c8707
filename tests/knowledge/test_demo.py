"""The knowledge demo loads through the services, gives the dashboard numbers and loads again without duplicates."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from knowledge.choices import ArticleState, Audience
from knowledge.demo import ACTIVITY, ARTICLES, DRAFT, IN_REVIEW, PAST_REVIEW
from knowledge.models import Article, ArticleUse, ArticleVersion, ArticleViewDay, ArticleVote, Deflection

MODELS = (Article, ArticleVersion, ArticleVote, ArticleViewDay, ArticleUse, Deflection)


@pytest.mark.django_db
def test_demo_knowledge_base_loads_idempotently():
    call_command('load_demo_data')
    counts = [m.objects.count() for m in MODELS]
    views = sorted(Article.objects.values_list('view_count', flat=True))
    call_command('load_demo_data')
    assert [m.objects.count() for m in MODELS] == counts
    assert sorted(Article.objects.values_list('view_count', flat=True)) == views

    files = sorted(p.name for p in ARTICLES.glob('*.md'))
    assert 8 <= len(files) <= 12
    imported = Article.objects.exclude(source_path='')
    assert sorted(imported.values_list('source_path', flat=True)) == files
    assert {a.audience for a in imported} == {Audience.AGENTS, Audience.EVERYONE}
    assert all(a.is_live and a.published_version.approved_by.username == 'knowledge' for a in imported)

    in_review = Article.objects.get(source_path=IN_REVIEW[0])
    assert in_review.state == ArticleState.REVIEW and in_review.version == 1 and in_review.is_live
    assert IN_REVIEW[2].strip() in in_review.body and IN_REVIEW[2].strip() not in in_review.published_version.body

    draft = Article.objects.get(short_description=DRAFT['title'])
    assert draft.state == ArticleState.DRAFT and not draft.is_live

    past = Article.objects.get(source_path=PAST_REVIEW[0])
    assert past.review_by < timezone.localdate()

    for path, views, votes, deflections, incidents in ACTIVITY:
        article = Article.objects.get(source_path=path)
        assert article.view_count == views
        assert article.helpful_count == sum(1 for _, helpful, _ in votes if helpful)
        assert article.not_helpful_count == sum(1 for _, helpful, _ in votes if not helpful)
        assert article.deflection_count == len(deflections) == article.deflections.count()
        assert article.use_count == article.uses.count() == len(incidents)
    assert ArticleUse.objects.count() >= 1
    assert Deflection.objects.filter(requester__username='requester').exists()


def test_demo_articles_read_without_failures_and_render_their_tables_and_lists():
    from knowledge.importer import split_front_matter
    from knowledge.rendering import render_markdown

    for path in sorted(ARTICLES.glob('*.md')):
        front, body = split_front_matter(path.read_text(encoding='utf-8'))
        assert front['title'] and front['summary'], path.name
        html = str(render_markdown(body))
        assert '<li>' in html or '<p><strong>' in html, path.name
        if '| --- |' in body:
            assert '<table>' in html and '| ---' not in html, path.name
