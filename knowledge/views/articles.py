"""Desk pages of knowledge articles: the list with its tabs and filters, the article page (`ARTICLE_PAGE`, one page
per action of `KNOWLEDGE_ACTIONS`), writing and editing with a Markdown preview, and the articles due for review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views import View

from itsm.permissions import user_can
from itsm.views.generic import Column, ObjectCreateView, ObjectListView, StaffOnlyMixin
from itsm.views.records import RecordDetailView, RecordEditView, RecordPage, record_routes, record_url

from .. import selectors, services
from ..actions import is_knowledge_manager, may_write
from ..choices import STATE_COLOURS, ArticleState
from ..filters import ArticleFilterSet
from ..forms import ArticleEditForm, ArticleForm, PreviewForm, VoteForm, article_owners
from ..models import Article
from ..rendering import render_markdown

ARTICLE_COLUMNS = [
    Column('number', template='knowledge/cells/number.html'),
    Column('short_description', 'Title', css_class='pc-cell-wrap'),
    Column('article_type', 'Type'),
    Column('audience'),
    Column('state', colors=STATE_COLOURS),
    Column('version', 'Version'),
    Column('owner', order_by='owner__last_name,owner__first_name'),
    Column('review_by', 'Review by', template='knowledge/cells/review_by.html'),
    Column('helpful_percent', 'Helpful', template='knowledge/cells/helpful.html'),
    Column('view_count', 'Views'),
    Column('services', 'Services', order_by=None, template='knowledge/cells/services.html', optional=True),
    Column('updated_at', 'Updated'),
]


class ArticlePageFilterSet(ArticleFilterSet):
    """The list's filter bar: owners and services offered in menus (the API takes the same parameters as text)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from cmdb.models import ConfigurationItem

        menus = {
            'owner': [('me', 'Me')] + [(u.username, str(u)) for u in article_owners()],
            'service': [(s.number, s.name) for s in ConfigurationItem.objects.services().order_by('name')],
        }
        for name, choices in menus.items():
            self.filters[name].field_class = forms.ChoiceField
            self.filters[name].extra['choices'] = [('', 'Any'), *choices]


# ------------------------------------------------------------------------------------------------ lists
class ArticleListView(StaffOnlyMixin, ObjectListView):
    """Articles by tab (published, drafts & review, mine, retired, all) with the filter bar."""

    model = Article
    filterset_class = ArticlePageFilterSet
    template_name = 'knowledge/article_list.html'
    columns = ARTICLE_COLUMNS
    title = 'Knowledge articles'
    filter_labels = {'owner': 'Owner', 'service': 'Service', 'q': 'Title'}

    def tab(self) -> str:
        name = self.request.GET.get('tab', 'published')
        return name if name in selectors.TABS else 'published'

    def get_queryset(self):
        return selectors.article_tab(user=self.request.user, name=self.tab())

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        context.update(tab=self.tab(), tabs=selectors.TABS)
        return context


class ReviewDueView(StaffOnlyMixin, View):
    """Live articles past their review date: whose they are and how many days overdue."""

    def get(self, request, *args, **kwargs):
        if not user_can(request.user, Article, 'view'):
            raise PermissionDenied
        today = timezone.localdate()
        articles = list(selectors.review_due(today=today))
        rows = [(article, (today - article.review_by).days) for article in articles]
        return render(request, 'knowledge/review_due.html', {'rows': rows, 'today': today, 'title': 'Review due'})


# ------------------------------------------------------------------------------------------------- detail
WORKING_FIELDS = (('title', 'short_description'), ('body', 'body'), ('summary', 'summary'))
WORKING_CHOICES = ('article_type', 'audience')


def differs_from_published(article: Article) -> bool:
    """Whether the working copy says something other than what readers see."""
    published = article.published_version
    if published is None:
        return True
    return any(getattr(published, v) != getattr(article, a) for v, a in WORKING_FIELDS) or any(
        getattr(published, name) != getattr(article, name) for name in WORKING_CHOICES
    )


class ArticlePage(RecordPage):
    """The article page: `records/detail.html` with the rendered body (the published version for readers, the
    working copy for writers while it differs), the facts, the counters, the vote and the timeline."""

    model = Article
    queryset = selectors.article_detail()
    template_name = 'knowledge/article_detail.html'
    header_template = 'knowledge/article/_header.html'
    summary_template = 'knowledge/article/_summary.html'
    facts_template = 'knowledge/article/_facts.html'

    def get_queryset(self):
        return selectors.article_detail()

    def shown(self, request, article: Article) -> dict[str, Any]:
        """What the page's body shows: the working copy (with a draft banner) or the published version."""
        published = article.published_version
        writer = may_write(article, request.user)
        if published is not None and (article.state == ArticleState.RETIRED or not differs_from_published(article)):
            return {'shown_title': published.title, 'shown_body': published.body, 'shows_draft': False}
        if published is not None and not writer:
            return {'shown_title': published.title, 'shown_body': published.body, 'shows_draft': False}
        return {'shown_title': article.short_description, 'shown_body': article.body, 'shows_draft': True}

    def extra_context(self, request, article: Article) -> dict[str, Any]:
        shown = self.shown(request, article)
        actions = {action.name for action in article.actions.available(article, request.user)}
        return {
            **shown,
            'rendered_body': render_markdown(shown['shown_body']),
            'next_version': article.version + 1,
            'state_colours': STATE_COLOURS,
            'vote_form': VoteForm(record=article, user=request.user) if 'vote' in actions else None,
            'vote_url': record_url(article, 'vote'),
            'votes_total': article.helpful_count + article.not_helpful_count,
            # The working copy is edited in draft (and by knowledge managers in review); a published article is
            # revised first, a retired one restored.
            'can_edit': self.can_work(request.user, article)
            and may_write(article, request.user)
            and (
                article.state == ArticleState.DRAFT
                or (article.state == ArticleState.REVIEW and is_knowledge_manager(request.user))
            ),
        }


ARTICLE_PAGE = ArticlePage()


class ArticleDetailView(RecordDetailView):
    """The article page. Opening it counts a view (a refresh of its parts by htmx does not)."""

    page = ARTICLE_PAGE

    def get(self, request, *args, **kwargs):
        if not request.htmx:
            article = self.get_record()
            if article.number == self.kwargs['number'].upper():
                services.article_viewed(article=article, user=request.user)
        return super().get(request, *args, **kwargs)


# ------------------------------------------------------------------------------------------ create and edit
class ArticleCreateView(StaffOnlyMixin, ObjectCreateView):
    """Write an article (the desk, problem and knowledge managers): it starts as a draft."""

    model = Article
    form_class = ArticleForm
    service = services.article_create
    template_name = 'knowledge/article_form.html'

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def form_context(self, form, obj=None) -> dict[str, Any]:
        return {**super().form_context(form, obj), 'title': 'New article'}


class ArticleEditView(RecordEditView):
    """The working copy's fields; as a full page, or (htmx) as a panel on the article page."""

    page = ARTICLE_PAGE
    form_class = ArticleEditForm
    service = services.article_update
    service_object_kwarg = 'article'
    template_name = 'knowledge/article_form.html'

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context['title'] = f'Edit {obj}' if obj else 'Edit article'
        return context


class ArticlePreviewView(StaffOnlyMixin, View):
    """The body as readers will see it (htmx): Markdown rendered and sanitised, never saved."""

    http_method_names = ['post']

    def post(self, request, *args, **kwargs):
        if not (user_can(request.user, Article, 'add') or user_can(request.user, Article, 'change')):
            raise PermissionDenied
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return HttpResponse('The text is too long to preview.', status=400, content_type='text/plain')
        body = form.cleaned_data['body']
        context = {'rendered': render_markdown(body), 'empty': not body.strip()}
        return render(request, 'knowledge/_preview.html', context)


def article_routes() -> list:
    """The article page, its edit page, one page per action, comments and files at `/knowledge/<number>/...`."""
    routes = record_routes(ARTICLE_PAGE, 'kb', 'article', detail_view=ArticleDetailView, edit_view=ArticleEditView)
    return [path(str(r.pattern).removeprefix('kb/'), r.callback, r.default_args, name=r.name) for r in routes]


article_urls = [
    path('', ArticleListView.as_view(), name='article_list'),
    path('new/', ArticleCreateView.as_view(), name='article_add'),
    path('preview/', ArticlePreviewView.as_view(), name='article_preview'),
    path('review-due/', ReviewDueView.as_view(), name='review_due'),
    *article_routes(),
]
