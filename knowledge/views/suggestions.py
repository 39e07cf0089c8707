"""Suggestions while something is reported, and what people do with them: "This solved it" in the portal (a
deflection: no report is made), "Used to resolve" on an incident, and publishing a known error's workaround as an
article."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.views import View

from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.permissions import ModelPermissionMixin, user_can
from itsm.views.generic import error_text, safe_next

from .. import suggestions
from ..models import Article, ArticleUse, Deflection
from ..selectors import with_published


def _text(request) -> str:
    return (request.GET.get('short_description') or request.GET.get('q') or '').strip()


class SuggestView(ModelPermissionMixin, View):
    """htmx fragment: articles for what is being typed (`?short_description=&service=&ci=`). Requesters get the
    portal's list ("This solved it", "Read"); staff on the new-ticket form (`?desk=1`) get articles and known errors
    for the text, the CI and the service."""

    model = Article
    permission_action = 'view'

    def get(self, request):
        user = request.user
        service = suggestions.find_item(request.GET.get('service'))
        text = _text(request)
        if user.is_requester_only or not request.GET.get('desk'):
            hits = suggestions.portal_suggestions(text, user=user, service=service)
            with_published([hit.article for hit in hits])
            return render(request, 'knowledge/_suggest_portal.html', {'hits': hits, 'typed': text})
        ci = suggestions.find_item(request.GET.get('ci'))
        found = suggestions.desk_suggestions(text, user=user, ci=ci, service=service)
        with_published([hit.article for hit in found.articles])
        return render(request, 'knowledge/_suggest_desk.html', {'found': found})


class DeflectView(ModelPermissionMixin, View):
    """POST from the new-report form ("This solved it" submits the form here, with what was typed) or from an
    article opened from it: count the deflection; no report is made."""

    model = Deflection
    permission_action = 'add'
    http_method_names = ['post']

    def post(self, request):
        from .. import services

        number = (request.POST.get('article') or '').strip().upper()
        article = Article.objects.readable_by(request.user).filter(number=number).first() if number else None
        if article is None:
            raise Http404(f'No article {number}.')
        query = (request.POST.get('short_description') or request.POST.get('report') or '').strip()[:200]
        try:
            services.deflect(article=article, actor=Actor.from_request(request), query=query)
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(f'{article_url(article)}')
        return render(request, 'knowledge/help_deflected.html', {'article': article, 'title': 'Glad it is solved'})


def article_url(article: Article) -> str:
    from django.urls import reverse

    return reverse('knowledge:help_article', args=[article.number])


class IncidentUseView(ModelPermissionMixin, View):
    """POST from the incident page's panel: the article helped resolve the incident ("Used to resolve")."""

    model = ArticleUse
    permission_action = 'add'
    http_method_names = ['post']

    def post(self, request):
        from incidents.models import Ticket

        from .. import services

        if request.user.is_requester_only:
            raise PermissionDenied
        incident = Ticket.objects.visible_to(request.user).filter(number=_number(request, 'incident')).first()
        article = Article.objects.readable_by(request.user).filter(number=_number(request, 'article')).first()
        if incident is None or article is None:
            raise Http404('No such incident or article.')
        try:
            services.article_use(article=article, incident=incident, actor=Actor.from_request(request))
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f'{article.number} is recorded as used to resolve {incident.number}.')
        return HttpResponseRedirect(safe_next(request, incident.get_absolute_url()))


def _number(request, name: str) -> str:
    return (request.POST.get(name) or '').strip().upper()


class FromKnownErrorView(ModelPermissionMixin, View):
    """POST from a known error's page: publish its workaround as an article (a draft for review), linked both ways."""

    model = Article
    permission_action = 'add'
    http_method_names = ['post']

    def post(self, request, number):
        from problems.models import KnownError

        from .. import services

        if request.user.is_requester_only or not user_can(request.user, KnownError, 'view'):
            raise PermissionDenied
        known_error = KnownError.objects.visible_to(request.user).filter(number=number.upper()).first()
        if known_error is None:
            raise Http404(f'No known error {number}.')
        try:
            article = services.article_from_known_error(known_error=known_error, actor=Actor.from_request(request))
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(known_error.get_absolute_url())
        messages.success(request, f'{article.number} now holds the workaround of {known_error.number}.')
        return HttpResponseRedirect(article.get_absolute_url())


suggestion_urls = [
    path('suggest/', SuggestView.as_view(), name='suggest'),
    path('deflect/', DeflectView.as_view(), name='deflect'),
    path('used-to-resolve/', IncidentUseView.as_view(), name='incident_use'),
    path('from-known-error/<str:number>/', FromKnownErrorView.as_view(), name='from_known_error'),
]
