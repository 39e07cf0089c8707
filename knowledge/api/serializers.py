"""Knowledge articles over the API, and the input serializers of the article actions. They validate; services
decide.

Staff read the working copy (the draft being written, its owner and review date) beside what readers see; requesters
get `ArticleReaderSerializer`: the latest published version's content only, never the working copy."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from cmdb.api.fields import CINumberField
from incidents.api.fields import CategoryField
from itsm.api.fields import UsernameField

from ..choices import ArticleType, Audience
from ..models import Article, ArticleUse, ArticleVersion, ArticleVote, Deflection


def render_markdown(text: str) -> str:
    from ..rendering import render_markdown as render

    return str(render(text))


def _absolute(serializer, path: str) -> str:
    request = serializer.context.get('request')
    return request.build_absolute_uri(path) if request else path


class ArticleSerializer(serializers.ModelSerializer):
    """An article as the desk sees it: the working copy and its lifecycle, what readers see (`version`,
    `published_at`) and the counters. Writable fields are those a create or an edit may set; the state moves only
    through the actions."""

    title = serializers.CharField(source='short_description', max_length=200)
    state_label = serializers.CharField(source='get_state_display', read_only=True)
    type = serializers.ChoiceField(source='article_type', choices=ArticleType.choices, required=False)
    type_label = serializers.CharField(source='get_article_type_display', read_only=True)
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    body = serializers.CharField(help_text='Markdown.')
    body_html = serializers.SerializerMethodField(help_text='The body rendered and sanitised.')
    owner = UsernameField(required=False, allow_null=True, help_text='Keeps the article right (username).')
    services = CINumberField(services_only=True, many=True, required=False, help_text='Service CI numbers.')
    cis = CINumberField(many=True, required=False, help_text='Configuration item numbers.')
    categories = CategoryField(many=True, required=False, help_text='Categories, by name or id.')
    known_error = serializers.SlugRelatedField(
        slug_field='number', read_only=True, help_text='The known error whose workaround it publishes.'
    )
    url = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            'number',
            'title',
            'state',
            'state_label',
            'type',
            'type_label',
            'audience',
            'summary',
            'body',
            'body_html',
            'owner',
            'review_by',
            'services',
            'cis',
            'categories',
            'known_error',
            'version',
            'published_at',
            'retired_at',
            'retire_reason',
            'view_count',
            'helpful_count',
            'not_helpful_count',
            'use_count',
            'deflection_count',
            'opened_at',
            'updated_at',
            'url',
            'links',
        ]
        read_only_fields = [
            'state',
            'version',
            'published_at',
            'retired_at',
            'retire_reason',
            'view_count',
            'helpful_count',
            'not_helpful_count',
            'use_count',
            'deflection_count',
            'opened_at',
            'updated_at',
        ]

    def get_body_html(self, article) -> str:
        return str(render_markdown(article.body))

    def get_url(self, article) -> str:
        return _absolute(self, article.get_absolute_url())

    def get_links(self, article) -> dict[str, str]:
        return {
            name: _absolute(self, reverse(f'api:article-{name}', args=[article.number]))
            for name in ('versions', 'votes', 'uses', 'deflections', 'timeline', 'comments')
        }


class ArticleUpdateSerializer(ArticleSerializer):
    """PATCH: every field is optional; fields left out keep their value."""

    title = serializers.CharField(source='short_description', max_length=200, required=False)
    body = serializers.CharField(required=False, help_text='Markdown.')


class ArticleReaderSerializer(serializers.ModelSerializer):
    """What a requester reads: the latest published version (title, summary, body, type), never the working copy,
    its owner or its review date."""

    title = serializers.CharField(source='published_version.title', read_only=True)
    summary = serializers.CharField(source='published_version.summary', read_only=True)
    type = serializers.CharField(source='published_version.article_type', read_only=True)
    body = serializers.CharField(source='published_version.body', read_only=True, help_text='Markdown.')
    body_html = serializers.SerializerMethodField(help_text='The body rendered and sanitised.')
    services = serializers.SlugRelatedField(slug_field='number', many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            'number',
            'title',
            'summary',
            'type',
            'body',
            'body_html',
            'services',
            'version',
            'published_at',
            'helpful_count',
            'not_helpful_count',
            'url',
        ]
        read_only_fields = fields

    def get_body_html(self, article) -> str:
        return str(render_markdown(article.published_version.body))

    def get_url(self, article) -> str:
        return _absolute(self, reverse('knowledge:help_article', args=[article.number]))


class ArticleVersionSerializer(serializers.ModelSerializer):
    """One published version, as it went out."""

    article = serializers.SlugRelatedField(slug_field='number', read_only=True)
    type = serializers.CharField(source='article_type', read_only=True)
    body_html = serializers.SerializerMethodField(help_text='The body rendered and sanitised.')
    author = serializers.SlugRelatedField(slug_field='username', read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = ArticleVersion
        fields = [
            'article',
            'version',
            'title',
            'summary',
            'type',
            'audience',
            'body',
            'body_html',
            'change_note',
            'author',
            'approved_by',
            'published_at',
        ]
        read_only_fields = fields

    def get_body_html(self, version) -> str:
        return str(render_markdown(version.body))


class DiffRowSerializer(serializers.Serializer):
    """One row of a comparison (`knowledge.versions.DiffRow`): a field or a line of the body, same, removed or
    added."""

    kind = serializers.ChoiceField(choices=[('same', 'Same'), ('removed', 'Removed'), ('added', 'Added')])
    field = serializers.CharField(help_text='title, article_type, audience, summary or body.')
    label = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    changed = serializers.BooleanField()


class ArticleVoteSerializer(serializers.ModelSerializer):
    article = serializers.SlugRelatedField(slug_field='number', read_only=True)
    voter = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = ArticleVote
        fields = ['id', 'article', 'version', 'voter', 'helpful', 'comment', 'voted_at']
        read_only_fields = fields


class ArticleUseSerializer(serializers.ModelSerializer):
    article = serializers.SlugRelatedField(slug_field='number', read_only=True)
    incident = serializers.SlugRelatedField(slug_field='number', read_only=True)
    used_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = ArticleUse
        fields = ['id', 'article', 'incident', 'used_by', 'used_at']
        read_only_fields = fields


class DeflectionSerializer(serializers.ModelSerializer):
    article = serializers.SlugRelatedField(slug_field='number', read_only=True)
    requester = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = Deflection
        fields = ['id', 'article', 'requester', 'query', 'deflected_at']
        read_only_fields = fields


class SearchHitSerializer(serializers.Serializer):
    """One search result: the article as the reader may see it, its rank and a highlighted snippet."""

    number = serializers.CharField(source='article.number')
    title = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    type = serializers.SerializerMethodField()
    rank = serializers.FloatField()
    snippet = serializers.SerializerMethodField(help_text='HTML: matching words inside <mark>…</mark>.')
    url = serializers.SerializerMethodField()

    @staticmethod
    def _published(hit):
        # Search finds published versions; the working copy of a revised article is not what readers read.
        return hit.article.published_version or hit.article

    def get_title(self, hit) -> str:
        version = self._published(hit)
        return version.title

    def get_summary(self, hit) -> str:
        return self._published(hit).summary

    def get_type(self, hit) -> str:
        return self._published(hit).article_type

    def get_snippet(self, hit) -> str:
        return str(hit.snippet)

    def get_url(self, hit) -> str:
        return _absolute(self, reverse('api:article-detail', args=[hit.article.number]))


# --------------------------------------------------------------------------------------------------- input
class PublishSerializer(serializers.Serializer):
    change_note = serializers.CharField(
        required=False, allow_blank=True, default='', max_length=300, help_text='What changed in this version.'
    )


class VoteSerializer(serializers.Serializer):
    helpful = serializers.BooleanField(help_text='Did the article help?')
    comment = serializers.CharField(required=False, allow_blank=True, default='', max_length=500)


class UseSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=20, help_text='The incident it helped resolve (INC0001001).')


class DeflectSerializer(serializers.Serializer):
    query = serializers.CharField(
        required=False, allow_blank=True, default='', max_length=200, help_text='What the requester had typed.'
    )


class FromKnownErrorSerializer(serializers.Serializer):
    known_error = serializers.CharField(max_length=20, help_text='The known error (KE0001001).')


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text='Words; "quoted phrase", or, -excluded.')
    type = serializers.ChoiceField(choices=ArticleType.choices, required=False)
    service = serializers.CharField(required=False, help_text='A service CI number.')
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    offset = serializers.IntegerField(required=False, min_value=0, default=0)


class CompareQuerySerializer(serializers.Serializer):
    from_ = serializers.IntegerField(min_value=1, help_text='The older version number.')
    to = serializers.IntegerField(
        required=False, min_value=1, help_text='The newer version number; left out, the working copy.'
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['from'] = self.fields.pop('from_')
