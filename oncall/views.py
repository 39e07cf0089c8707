"""On-call pages: who is on call now across groups, schedules (two weeks of shifts, layers, overrides, the
calendar feed), layers, overrides, escalation policies and the pages sent. Two addresses need no session: the
acknowledge link of a page (signed, expiring, single use) and a schedule's calendar feed (signed, revocable)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.permissions import ModelPermissionMixin
from itsm.views.generic import (
    Column,
    ObjectActionView,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    StaffOnlyMixin,
    error_text,
)

from . import feed, selectors, services
from .choices import PageState
from .filters import (
    EscalationPolicyFilterSet,
    OnCallOverrideFilterSet,
    OnCallScheduleFilterSet,
    PageFilterSet,
    RotationLayerFilterSet,
)
from .forms import EscalationPolicyForm, OnCallOverrideForm, OnCallScheduleForm, RotationLayerForm
from .models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer


class ServiceFormMixin:
    """Create/edit/delete through `services.<prefix>_create|update|delete`."""

    service_prefix = ''

    def save(self, form):
        fields = self.service_fields(form)
        if isinstance(self, ObjectEditView):
            update = getattr(services, f'{self.service_prefix}_update')
            return update(actor=self.actor(), **{self.service_prefix: self.get_object()}, **fields)
        return getattr(services, f'{self.service_prefix}_create')(actor=self.actor(), **fields)


class ServiceDeleteMixin:
    service_prefix = ''

    def perform(self, obj):
        return getattr(services, f'{self.service_prefix}_delete')(actor=self.actor(), **{self.service_prefix: obj})


# ------------------------------------------------------------------------------------------------ now
class OnCallNowView(StaffOnlyMixin, ModelPermissionMixin, View):
    """Who is on call now, and next, on every schedule."""

    model = OnCallSchedule

    def get(self, request):
        rows = selectors.now_and_next(list(selectors.schedules_with_rotation().order_by('group__name', 'name')))
        return render(request, 'oncall/now.html', {'rows': rows, 'title': 'On call now'})


# ------------------------------------------------------------------------------------------------ schedules
class ScheduleMixin(StaffOnlyMixin):
    model = OnCallSchedule
    queryset = selectors.schedule_list()
    verbose_name, verbose_name_plural = 'on-call schedule', 'on-call schedules'


class OnCallScheduleListView(ScheduleMixin, ObjectListView):
    filterset_class = OnCallScheduleFilterSet
    title = 'On-call schedules'
    columns = [Column('name', linkify=True), Column('group', order_by='group__name'), 'time_zone']


class OnCallScheduleDetailView(ScheduleMixin, ObjectDetailView):
    template_name = 'oncall/schedule_detail.html'
    fields = ['group', 'time_zone']

    def get_queryset(self):
        return selectors.schedules_with_rotation()

    def get_extra_context(self, obj) -> dict[str, Any]:
        row = selectors.now_and_next([obj])[0]
        zone = services.zone_of(obj)
        days: list[dict] = []
        for shift in row['shifts']:
            date = timezone.localtime(shift['start'], zone).date()
            if not days or days[-1]['date'] != date:
                days.append({'date': date, 'shifts': []})
            days[-1]['shifts'].append(shift)
        layers = sorted(obj.layers.all(), key=lambda layer: layer.position)
        members = selectors.people_by_id(pk for layer in layers for pk in layer.members or [])
        may_manage = services.can_manage(self.request.user, obj.group)
        return {
            'row': row,
            'days': days,
            'zone': zone,
            'layers': [(layer, [members.get(pk) for pk in layer.members or []]) for layer in layers],
            'overrides': sorted(obj.overrides.all(), key=lambda o: o.start),
            'feed_url': self.request.build_absolute_uri(reverse('oncall:feed', args=[services.feed_token(obj)])),
            'may_manage': may_manage,
        }


class OnCallScheduleCreateView(ScheduleMixin, ServiceFormMixin, ObjectCreateView):
    form_class = OnCallScheduleForm
    service_prefix = 'schedule'


class OnCallScheduleEditView(ScheduleMixin, ServiceFormMixin, ObjectEditView):
    form_class = OnCallScheduleForm
    service_prefix = 'schedule'


class OnCallScheduleDeleteView(ScheduleMixin, ServiceDeleteMixin, ObjectDeleteView):
    service_prefix = 'schedule'
    action_description = 'Its layers and overrides go with it; pages already sent stay.'


class RotateFeedView(ScheduleMixin, ObjectActionView):
    service = services.schedule_rotate_feed
    service_object_kwarg = 'schedule'
    action_label = 'Replace the calendar feed address of'
    action_description = 'Calendars subscribed to the current address stop receiving shifts at once.'
    button_class = 'btn-warning'
    success_message = 'New calendar feed address made: subscribe again with it.'


class ScheduleFeedView(View):
    """The schedule's shifts as iCalendar (no session: the signed token in the address is the credential)."""

    def get(self, request, token):
        schedule = services.schedule_from_feed_token(token.removesuffix('.ics'))
        if schedule is None:
            return HttpResponse('Unknown or replaced calendar feed address.\n', status=404, content_type='text/plain')
        schedule = selectors.schedules_with_rotation().get(pk=schedule.pk)
        now = timezone.now()
        body = feed.ical(
            schedule, services.shifts_of(schedule, now - dt.timedelta(days=7), now + dt.timedelta(days=feed.FEED_DAYS))
        )
        response = HttpResponse(body, content_type='text/calendar; charset=utf-8')
        response['Content-Disposition'] = f'inline; filename="oncall-{schedule.pk}.ics"'
        response['Cache-Control'] = 'private, max-age=300'
        return response


# ------------------------------------------------------------------------------------------------ layers
class LayerMixin(StaffOnlyMixin):
    model = RotationLayer
    queryset = selectors.layer_list()
    verbose_name, verbose_name_plural = 'rotation layer', 'rotation layers'


class RotationLayerListView(LayerMixin, ObjectListView):
    filterset_class = RotationLayerFilterSet
    columns = [
        Column('name', linkify=True),
        Column('schedule', order_by='schedule__name'),
        'position',
        'handoff',
        'handoff_time',
        'rotation_start',
    ]


class RotationLayerDetailView(LayerMixin, ObjectDetailView):
    fields = [
        'schedule',
        'position',
        'handoff',
        'handoff_time',
        'handoff_weekday',
        'rotation_start',
        Column('member_names', 'Members'),
        Column('days_text', 'Covered weekdays'),
        'restrict_from',
        'restrict_to',
    ]

    def get_object(self):
        layer = super().get_object()
        names = dict(selectors.people_by_id(layer.members or []).items())
        layer.member_names = ', '.join(
            (names[pk].get_full_name() or names[pk].username) if pk in names else f'#{pk}' for pk in layer.members
        )
        labels = dict(RotationLayer._meta.get_field('handoff_weekday').choices)
        layer.days_text = ', '.join(str(labels[d]) for d in layer.restrict_days) or 'Every day'
        return layer


class RotationLayerCreateView(LayerMixin, ServiceFormMixin, ObjectCreateView):
    form_class = RotationLayerForm
    service_prefix = 'layer'

    def get_form(self, instance=None):
        form = super().get_form(instance)
        if self.request.method == 'GET' and self.request.GET.get('schedule', '').isdigit():
            form.initial['schedule'] = int(self.request.GET['schedule'])
        return form


class RotationLayerEditView(LayerMixin, ServiceFormMixin, ObjectEditView):
    form_class = RotationLayerForm
    service_prefix = 'layer'


class RotationLayerDeleteView(LayerMixin, ServiceDeleteMixin, ObjectDeleteView):
    service_prefix = 'layer'


# ------------------------------------------------------------------------------------------------ overrides
class OverrideMixin(StaffOnlyMixin):
    model = OnCallOverride
    queryset = selectors.override_list()
    verbose_name, verbose_name_plural = 'override', 'on-call overrides'


class OnCallOverrideListView(OverrideMixin, ObjectListView):
    filterset_class = OnCallOverrideFilterSet
    title = 'On-call overrides'
    columns = [
        Column('__str__', 'Override', linkify=True, order_by=None),
        Column('person', order_by='person__username'),
        'start',
        'end',
        'note',
    ]


class OnCallOverrideDetailView(OverrideMixin, ObjectDetailView):
    fields = ['schedule', 'person', 'start', 'end', 'note']


class OverrideFormMixin(OverrideMixin, ServiceFormMixin):
    form_class = OnCallOverrideForm
    service_prefix = 'override'

    def get_form_kwargs(self):
        return {'user': self.request.user}

    def get_form(self, instance=None):
        form = super().get_form(instance)
        if self.request.method == 'GET' and self.request.GET.get('schedule', '').isdigit():
            form.initial['schedule'] = int(self.request.GET['schedule'])
        return form


class OnCallOverrideCreateView(OverrideFormMixin, ObjectCreateView):
    pass


class OnCallOverrideEditView(OverrideFormMixin, ObjectEditView):
    pass


class OnCallOverrideDeleteView(OverrideMixin, ServiceDeleteMixin, ObjectDeleteView):
    service_prefix = 'override'


# ------------------------------------------------------------------------------------------------ policies
class PolicyMixin(StaffOnlyMixin):
    model = EscalationPolicy
    queryset = selectors.policy_list()
    verbose_name, verbose_name_plural = 'escalation policy', 'escalation policies'


class EscalationPolicyListView(PolicyMixin, ObjectListView):
    filterset_class = EscalationPolicyFilterSet
    columns = [Column('name', linkify=True), Column('group', order_by='group__name'), 'active']


class EscalationPolicyDetailView(PolicyMixin, ObjectDetailView):
    template_name = 'oncall/policy_detail.html'
    fields = ['group', 'active']

    def get_extra_context(self, obj):
        people = selectors.people_by_id(level.get('person') for level in obj.levels)
        schedules = selectors.schedule_names(obj.group)
        steps = []
        for number, level in enumerate(obj.levels, start=1):
            if level['notify'] == 'person':
                person = people.get(level.get('person'))
                whom = (person.get_full_name() or person.username) if person else 'a person no longer here'
            elif level['notify'] == 'manager':
                whom = f'the manager of {obj.group}'
            else:
                named = schedules.get(level.get('schedule'))
                whom = f'who is on call ({named})' if named else f'who is on call for {obj.group}'
            steps.append({'number': number, 'whom': whom, 'minutes': level.get('minutes')})
        return {'steps': steps}


class EscalationPolicyCreateView(PolicyMixin, ServiceFormMixin, ObjectCreateView):
    form_class = EscalationPolicyForm
    service_prefix = 'policy'


class EscalationPolicyEditView(PolicyMixin, ServiceFormMixin, ObjectEditView):
    form_class = EscalationPolicyForm
    service_prefix = 'policy'


class EscalationPolicyDeleteView(PolicyMixin, ServiceDeleteMixin, ObjectDeleteView):
    service_prefix = 'policy'


# ------------------------------------------------------------------------------------------------ pages
class PageMixin(StaffOnlyMixin):
    model = Page
    queryset = selectors.page_list()
    verbose_name, verbose_name_plural = 'page', 'pages'


class PageListView(PageMixin, ObjectListView):
    filterset_class = PageFilterSet
    title = 'On-call pages'
    columns = [
        Column('__str__', 'Page', linkify=True, order_by=None),
        'record_title',
        Column('recipient', order_by='recipient__username'),
        'state',
        'sent_at',
        Column('acknowledged_by', order_by=None),
    ]


class PageDetailView(PageMixin, ObjectDetailView):
    template_name = 'oncall/page_detail.html'
    fields = [
        'record_number',
        'record_title',
        'group',
        'level',
        'target',
        'recipient',
        'reason',
        'state',
        'sent_at',
        'escalate_at',
        'escalated_at',
        'acknowledged_at',
        'acknowledged_by',
    ]

    def get_timeline(self, obj):
        return []

    def get_extra_context(self, obj):
        record = obj.record
        user = self.request.user
        may_ack = obj.state in (PageState.OPEN, PageState.ESCALATED) and (
            user.pk == obj.recipient_id or services.can_manage(user, obj.group)
        )
        return {'record': record, 'may_acknowledge': may_ack}


class PageAcknowledgeView(PageMixin, ObjectActionView):
    permission_action = 'change'
    action_label = 'Acknowledge'
    action_description = 'You take the page: the escalation stops.'

    def perform(self, obj):
        return services.page_acknowledge(page=obj, actor=self.actor(), via='ui')

    def post(self, request, *args, **kwargs):
        page = self.get_object()
        try:
            self.perform(page)
        except ApplicationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, 'Page acknowledged: the escalation stopped.')
        return HttpResponseRedirect(page.get_absolute_url())


class AcknowledgeLinkView(View):
    """The link in a page: GET shows what the page is about and a button (so a mail scanner fetching the link
    acknowledges nothing); POST acknowledges. Forged, altered and expired links get a clear refusal."""

    template_name = 'oncall/acknowledge.html'

    def answer(self, request, context, status=200):
        return render(request, self.template_name, context, status=status)

    def refused(self, request, reason: str):
        return self.answer(request, {'refused': reason}, status=410 if reason == 'expired' else 400)

    def get(self, request, token):
        try:
            page = services.page_from_token(token)
        except services.LinkRefused as refusal:
            return self.refused(request, refusal.reason)
        return self.answer(request, self.context(page))

    def context(self, page, **extra):
        return {'page': page, 'done': selectors.acknowledgement_of(page), **extra}

    def post(self, request, token):
        try:
            page = services.page_from_token(token)
        except services.LinkRefused as refusal:
            return self.refused(request, refusal.reason)
        actor = Actor(user=page.recipient, channel='email')
        try:
            page = services.page_acknowledge(page=page, actor=actor, via='link')
        except ApplicationError as error:
            return self.answer(request, {**self.context(page), 'already': error.detail}, status=409)
        return self.answer(request, {**self.context(page), 'acknowledged': True})
