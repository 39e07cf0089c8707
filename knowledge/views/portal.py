"""The help centre: requesters (and staff) search and browse the live articles they may read, read one at its
published version, and say whether it helped. An article someone may not read (a draft, a desk-only one for a
requester, a retired one) answers 404, as if it did not exist."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.views import View

from cmdb.models import ConfigurationItem
from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.permissions import ModelPermissionMixin
from itsm.views.generic import error_text

from ..choices import ArticleType
from ..models import Article, ArticleVote
from ..selectors import with_published

PAGE_SIZE = 20


class HelpFilterForm(forms.Form):
    q = forms.CharField(label='Search', required=False, max_length=200)
    type = forms.ChoiceField(label='Type', required=False, choices=[('', 'Any type'), *ArticleType.choices])
    service = forms.ModelChoiceField(
        label='Service',
        required=False,
        empty_label='Any service',
        queryset=ConfigurationItem.objects.filter(ci_class='service', service_articles__isnull=False)
        .distinct()
        .order_by('name'),
        to_field_name='number',
    )


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[('yes', 'Yes'), ('no', 'No')], coerce=lambda value: value == 'yes')
    comment = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={'rows': 2}))


class HelpMixin(ModelPermissionMixin):
    model = Article
    permission_action = 'view'

    def readable(self):
        return Article.objects.readable_by(self.request.user)


class HelpView(HelpMixin, View):
    """Search (`?q=`, through the knowledge search) or browse (newest first), by type and service."""

    def get(self, request):
        form = HelpFilterForm(request.GET or None)
        query, article_type, service = '', None, None
        if form.is_valid():
            query = form.cleaned_data['q'].strip()
            article_type = form.cleaned_data['type'] or None
            service = form.cleaned_data['service']
        page_number = _page_number(request.GET.get('page'))
        context = {'form': form, 'query': query, 'title': 'Help centre'}
        if query:
            from ..search import search_articles

            offset = (page_number - 1) * PAGE_SIZE
            result = search_articles(
                query,
                user=request.user,
                article_type=article_type,
                service=service.number if service else None,
                limit=PAGE_SIZE,
                offset=offset,
            )
            with_published([hit.article for hit in result.hits])
            context.update(
                hits=result.hits,
                total=result.total,
                page_number=page_number,
                has_next=offset + len(result.hits) < result.total,
            )
        else:
            articles = self.readable().order_by('-published_at', '-pk')
            if article_type:
                articles = articles.filter(article_type=article_type)
            if service is not None:
                articles = articles.filter(services=service)
            page = Paginator(articles, PAGE_SIZE).get_page(page_number)
            context.update(page_obj=page, articles=with_published(page.object_list))
        return render(request, 'knowledge/help.html', context)


def _page_number(value) -> int:
    try:
        return max(1, int(value or 1))
    except (TypeError, ValueError):
        return 1


class HelpArticleView(HelpMixin, View):
    """One article at its published version; counts a view; "Was this helpful?" posts back here. Arriving from the
    new-report form (`?report=` with what was typed) it also offers "This solved it"."""

    def get_article(self, number: str) -> Article:
        article = self.readable().select_related('published_version', 'known_error').filter(number=number.upper())
        article = article.first()
        if article is None:
            raise Http404(f'No article {number}.')
        return article

    def get(self, request, number):
        from .. import services

        article = self.get_article(number)
        services.article_viewed(article=article, user=request.user)
        return self.show(article, VoteForm())

    def post(self, request, number):
        from .. import services

        article = self.get_article(number)
        form = VoteForm(request.POST)
        if form.is_valid():
            try:
                services.article_vote(
                    article=article,
                    actor=Actor.from_request(request),
                    helpful=form.cleaned_data['helpful'],
                    comment=form.cleaned_data['comment'],
                )
            except (ValidationError, ApplicationError) as error:
                form.add_error(None, error_text(error))
            else:
                messages.success(request, 'Thank you: your answer helps us keep the help centre right.')
                return HttpResponseRedirect(request.path)
        return self.show(article, form, status=400)

    def show(self, article: Article, form: VoteForm, status: int = 200):
        from ..rendering import render_markdown

        request = self.request
        version = article.published_version
        attachments = article.attachments.order_by('created_at', 'pk')
        if request.user.is_requester_only:
            attachments = attachments.filter(public=True)
        context = {
            'article': article,
            'version': version,
            'body': render_markdown(version.body),
            'attachments': list(attachments),
            'services': list(article.services.order_by('name')),
            'my_vote': ArticleVote.objects.filter(article=article, voter=request.user).first(),
            'vote_form': form,
            'report': (request.GET.get('report') or request.POST.get('report') or '').strip()[:200],
            'title': version.title,
        }
        return render(request, 'knowledge/help_article.html', context, status=status)


portal_urls = [
    path('help/', HelpView.as_view(), name='help'),
    path('help/<str:number>/', HelpArticleView.as_view(), name='help_article'),
]
