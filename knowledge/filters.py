"""Filters of the desk's article list (and the API's): type, audience, service, owner, state, and a plain
contains-search on the title (ranked full-text search is the search page's)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from itsm.filters import TextSearchFilterSet

from .choices import ArticleState, ArticleType, Audience
from .models import Article


class ArticleFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'short_description')

    article_type = django_filters.ChoiceFilter(choices=ArticleType.choices, label='Type')
    audience = django_filters.ChoiceFilter(choices=Audience.choices)
    state = django_filters.ChoiceFilter(choices=ArticleState.choices)
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')
    owner = django_filters.CharFilter(method='filter_owner', label='Owner (username, or "me")')

    class Meta:
        model = Article
        fields: list[str] = []

    def filter_service(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        value = value.strip()
        condition = Q(pk=int(value)) if value.isdigit() else Q(number__iexact=value) | Q(name__iexact=value)
        return queryset.filter(services__in=ConfigurationItem.objects.filter(condition).values('pk')).distinct()

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if value.lower() == 'me':
            user = getattr(self.request, 'user', None)
            return queryset.filter(owner=user) if user and user.is_authenticated else queryset.none()
        if value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset.filter(owner__username__iexact=value)
