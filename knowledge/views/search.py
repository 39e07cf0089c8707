"""The desk's knowledge search page (`knowledge:search`): a query in web syntax, filters by type, service and
audience, ranked results with highlighted snippets, a count and pages. Requesters search in the portal's help
centre instead."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.views.generic import TemplateView

from cmdb.models import ConfigurationItem
from itsm.permissions import ModelPermissionMixin
from itsm.views.generic import StaffOnlyMixin

from ..choices import ArticleType, Audience
from ..models import Article
from ..search import MAX_QUERY_LENGTH, search_articles

PAGE_SIZE = 20


class SearchForm(forms.Form):
    q = forms.CharField(
        label='Search',
        required=False,
        max_length=MAX_QUERY_LENGTH,
        help_text='All words must match; "a phrase" in quotes; or between alternatives; -word leaves it out.',
    )
    type = forms.ChoiceField(label='Type', required=False, choices=[('', 'Any type'), *ArticleType.choices])
    service = forms.ModelChoiceField(
        label='Service',
        required=False,
        queryset=ConfigurationItem.objects.services().order_by('name'),
        to_field_name='number',
        empty_label='Any service',
    )
    audience = forms.ChoiceField(label='Audience', required=False, choices=[('', 'Any audience'), *Audience.choices])


class _Window:
    """One page of hits standing for the whole result, so Django's paginator can number the pages."""

    def __init__(self, hits, total, offset):
        self.hits, self.total, self.offset = hits, total, offset

    def __len__(self):
        return self.total

    def __getitem__(self, item):
        return self.hits[item.start - self.offset : item.stop - self.offset]


class ArticleSearchView(StaffOnlyMixin, ModelPermissionMixin, TemplateView):
    model = Article
    template_name = 'knowledge/search.html'

    def get_template_names(self):
        # The pagination links fetch the next page with htmx: they get the results card alone.
        htmx = getattr(self.request, 'htmx', None)
        if htmx and not htmx.boosted and not htmx.history_restore_request:
            return ['knowledge/search_results.html']
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        patch_vary_headers(response, ['HX-Request'])
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = SearchForm(self.request.GET or None)
        context.update(form=form, query='', result=None, page_obj=None)
        if not form.is_valid() or not form.cleaned_data['q'].strip():
            return context
        data = form.cleaned_data
        filters = {
            'user': self.request.user,
            'article_type': data['type'] or None,
            'service': data['service'].number if data['service'] else None,
            'audience': data['audience'] or None,
        }
        page = _page_number(self.request.GET.get('page'))
        result = search_articles(data['q'], limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
        if not result.hits and result.total:  # past the last page: show the last one
            page = (result.total - 1) // PAGE_SIZE + 1
            result = search_articles(data['q'], limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
        window = _Window(result.hits, result.total, (page - 1) * PAGE_SIZE)
        context.update(query=data['q'].strip(), result=result, page_obj=Paginator(window, PAGE_SIZE).page(page))
        return context


def _page_number(value) -> int:
    try:
        return min(max(int(value), 1), 10_000)
    except (TypeError, ValueError):
        return 1


search_urls = [path('search/', ArticleSearchView.as_view(), name='search')]
