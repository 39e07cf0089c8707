"""Filters of the article list over the API: state, type, audience, service, owner, review due and text."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from itsm.filters import TextSearchFilterSet

from ..choices import ArticleState, ArticleType, Audience
from ..models import Article
from ..reviews import past_review


class ArticleFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'short_description', 'summary', 'body')

    state = django_filters.MultipleChoiceFilter(choices=ArticleState.choices)
    type = django_filters.MultipleChoiceFilter(field_name='article_type', choices=ArticleType.choices, label='Type')
    audience = django_filters.ChoiceFilter(choices=Audience.choices)
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')
    owner = django_filters.CharFilter(method='filter_owner', label='Owner (username, or "me")')
    review_due = django_filters.BooleanFilter(method='filter_review_due', label='Past its review date')

    class Meta:
        model = Article
        fields: list[str] = []

    def filter_service(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(services__pk=int(value)).distinct()
        return queryset.filter(Q(services__number__iexact=value) | Q(services__name__iexact=value)).distinct()

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if value.lower() == 'me':
            user = getattr(self.request, 'user', None)
            return queryset.filter(owner=user) if user and user.is_authenticated else queryset.none()
        return queryset.filter(owner__username__iexact=value)

    def filter_review_due(self, queryset, name, value):
        if value is None:
            return queryset
        # The same articles as the review-due page and the reminders: live ones whose review date has passed.
        due = past_review().order_by().values('pk')
        return queryset.filter(pk__in=due) if value else queryset.exclude(pk__in=due)
