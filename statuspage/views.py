"""The public status page (no login, no JavaScript needed), its JSON and subscriptions, and the staff subscriber
pages. Reads come from `selectors`, writes from `services`."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from changes.choices import ChangeState
from itsm.views.generic import Column, ObjectDeleteView, ObjectDetailView, ObjectListView, StaffOnlyMixin

from . import selectors, services, summary
from .forms import SubscribeForm
from .models import Subscriber

PUBLIC_MAX_AGE = 'max-age=30'


def short_cache(view):
    """Public pages change within a minute of an update: caches may keep them 30 seconds."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response['Cache-Control'] = PUBLIC_MAX_AGE
        return response

    return wrapper


def never_cache_token(view):
    """Pages reached through a subscriber's secret link are nobody else's: no cache keeps them."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response['Cache-Control'] = 'no-store'
        response['Referrer-Policy'] = 'no-referrer'
        return response

    return wrapper


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {'page_title': settings.STATUS_PAGE_TITLE, **context}, status=status)


@require_GET
@short_cache
def index(request):
    overview = selectors.overview(with_history=True)
    return _page(
        request,
        'statuspage/index.html',
        {
            'overview': overview,
            'active_incidents': selectors.active_incidents(),
            'maintenances_in_progress': selectors.maintenances(states=(ChangeState.IMPLEMENTATION,)),
            'maintenances': selectors.maintenances(states=(ChangeState.SCHEDULED,)),
            'past_incidents': selectors.past_incidents(),
            'form': SubscribeForm(),
            'history_days': settings.STATUS_PAGE_HISTORY_DAYS,
        },
    )


@require_GET
@short_cache
def service(request, number: str):
    found = get_object_or_404(selectors.public_services(), ci__number=number.upper())
    overview = selectors.overview(with_history=True, services=[found])
    since = timezone.now() - dt.timedelta(days=settings.STATUS_PAGE_HISTORY_DAYS)
    return _page(
        request,
        'statuspage/service.html',
        {
            'state': overview.services[0],
            'incidents': selectors.incidents_on_service(found, since),
            'form': SubscribeForm(initial={'services': [found.pk]}),
            'history_days': settings.STATUS_PAGE_HISTORY_DAYS,
        },
    )


@require_GET
@short_cache
def incident(request, number: str):
    major = selectors.public_incident(number)
    if major is None:
        raise Http404('No such incident on the status page.')
    return _page(request, 'statuspage/incident.html', {'major': major, 'active': major.state in selectors.ACTIVE})


# No CSRF token: the public pages set no cookie and stay cacheable; a forged request can only ask for one more
# confirmation e-mail to an address, which the rate limit caps.
@csrf_exempt
@require_http_methods(['GET', 'POST'])
def subscribe(request):
    form = SubscribeForm(request.POST or None)
    if request.method == 'POST' and form.is_valid():
        services.subscribe(email=form.cleaned_data['email'], services=form.cleaned_data['services'])
        # The same answer whether the address is new, waiting or subscribed: the form reveals nobody.
        return _page(request, 'statuspage/subscribe_sent.html', {'email': form.cleaned_data['email']})
    return _page(request, 'statuspage/subscribe.html', {'form': form}, status=400 if form.is_bound else 200)


def _subscriber(token: str) -> Subscriber:
    return get_object_or_404(Subscriber, token=token)


@csrf_exempt  # the secret token in the address is the proof; no cookie is needed to confirm
@require_http_methods(['GET', 'POST'])
@never_cache_token
def confirm(request, token: str):
    subscriber = _subscriber(token)
    # Mail scanners open links: only the button (a POST) confirms.
    if request.method == 'POST':
        subscriber = services.confirm(subscriber=subscriber)
        return _page(request, 'statuspage/confirmed.html', {'subscriber': subscriber})
    return _page(request, 'statuspage/confirm.html', {'subscriber': subscriber})


@csrf_exempt  # RFC 8058 one-click: mail clients POST without a page, so without a CSRF token; the token is the key
@require_http_methods(['GET', 'POST'])
@never_cache_token
def unsubscribe(request, token: str):
    subscriber = _subscriber(token)
    if request.method == 'POST':
        subscriber = services.unsubscribe(subscriber=subscriber)
        if request.POST.get('List-Unsubscribe') == 'One-Click':
            return HttpResponse('Unsubscribed.\n', content_type='text/plain')
        return _page(request, 'statuspage/unsubscribed.html', {'subscriber': subscriber})
    return _page(request, 'statuspage/unsubscribe.html', {'subscriber': subscriber})


# ------------------------------------------------------------------------------------------------ JSON (v2)
def _json(build):
    @require_GET
    @short_cache
    def view(request):
        response = JsonResponse(build(), json_dumps_params={'ensure_ascii': False})
        # Widgets on other sites read it from the browser.
        response['Access-Control-Allow-Origin'] = '*'
        return response

    return view


summary_json = _json(summary.summary)
status_json = _json(summary.status_document)
components_json = _json(summary.components_document)
incidents_json = _json(summary.incidents_document)
unresolved_json = _json(lambda: summary.incidents_document(unresolved=True))
maintenances_json = _json(summary.maintenances_document)
upcoming_json = _json(lambda: summary.maintenances_document('upcoming'))
active_maintenances_json = _json(lambda: summary.maintenances_document('active'))


# ------------------------------------------------------------------------------------------------ staff
class SubscriberListView(StaffOnlyMixin, ObjectListView):
    queryset = selectors.subscriber_list()
    title = 'Status page subscribers'
    columns = [
        Column('email', linkify=True),
        Column('standing', 'Standing', order_by=None),
        Column('service_count', 'Services (none: all)'),
        'confirmed_at',
        'created_at',
    ]


class SubscriberDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = Subscriber.objects.prefetch_related('services')
    fields = ['email', 'services', 'created_at', 'confirmation_sent_at', 'confirmed_at', 'unsubscribed_at']


class SubscriberDeleteView(StaffOnlyMixin, ObjectDeleteView):
    model = Subscriber
