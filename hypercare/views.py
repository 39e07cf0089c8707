"""Pages of hypercare: the periods (running ones first, with their figures), a period's dashboard, starting,
extending and ending periods, the rules; and the cards on incident and service pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils import timezone

from cmdb.models import ConfigurationItem
from itsm.errors import ApplicationError
from itsm.permissions import user_can
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

from . import selectors, services
from .filters import HypercarePeriodFilterSet, HypercareRuleFilterSet
from .forms import HypercarePeriodEditForm, HypercarePeriodEndForm, HypercarePeriodForm, HypercareRuleForm
from .models import HypercarePeriod, HypercareRule


class PeriodMixin(StaffOnlyMixin):
    model = HypercarePeriod
    queryset = selectors.period_list()
    verbose_name, verbose_name_plural = 'hypercare period', 'hypercare periods'


class HypercarePeriodListView(PeriodMixin, ObjectListView):
    """Every period, with the running ones and their figures above the table."""

    filterset_class = HypercarePeriodFilterSet
    template_name = 'hypercare/period_list.html'
    title = 'Hypercare'
    columns = [
        Column('__str__', 'Period', linkify=True, order_by='service__name'),
        Column('state', 'State', order_by=None),
        'starts_at',
        'ends_at',
        Column('incident_count', 'Incidents'),
        Column('change', order_by='change__number'),
        'reason',
    ]

    def get_context(self):
        context = super().get_context()
        context['active_periods'] = selectors.active_overview()
        return context


class HypercarePeriodDetailView(PeriodMixin, ObjectDetailView):
    """The period's dashboard: volume, MTTR and breaches against the same length of time before it."""

    template_name = 'hypercare/period_detail.html'

    def get_extra_context(self, obj):
        board = selectors.dashboard(obj)
        tags = selectors.tags_of_period(obj, user=self.request.user, limit=50)
        user = self.request.user
        return {
            'board': board,
            'chart': board.chart(),
            'tags': tags,
            'now': timezone.now(),
            'may_manage': user_can(user, HypercarePeriod, 'change') and services.may_manage(user, obj.service),
        }


class HypercarePeriodCreateView(PeriodMixin, ObjectCreateView):
    form_class = HypercarePeriodForm
    service = services.period_start
    success_message = 'Hypercare started.'

    def get_form_kwargs(self):
        kwargs = {'user': self.request.user}
        number = self.request.GET.get('service', '')
        if self.request.method == 'GET' and number:
            # From a service page's "Start" button: that service chosen already.
            kwargs['initial'] = {'service': ConfigurationItem.objects.services().filter(number=number).first()}
        return kwargs


class HypercarePeriodEditView(PeriodMixin, ObjectEditView):
    form_class = HypercarePeriodEditForm
    service = services.period_update
    service_object_kwarg = 'period'


class HypercarePeriodEndView(PeriodMixin, ObjectActionView):
    """End a period early, with an optional reason."""

    template_name = 'hypercare/period_end.html'
    action_label = 'End hypercare of'
    action_description = "The service's open tickets go back to their usual SLA now."
    button_class = 'btn-warning'

    def get(self, request, *args, **kwargs):
        return self.render(self.context(self.get_object(), form=HypercarePeriodEndForm()))

    def post(self, request, *args, **kwargs):
        period = self.get_object()
        form = HypercarePeriodEndForm(request.POST)
        if not form.is_valid():
            return self.render(self.context(period, form=form))
        try:
            services.period_end(period=period, actor=self.actor(), reason=form.cleaned_data['reason'])
        except ApplicationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, 'Hypercare ended.')
        return HttpResponseRedirect(period.get_absolute_url())


class HypercarePeriodDeleteView(PeriodMixin, ObjectDeleteView):
    service = services.period_delete
    service_object_kwarg = 'period'


class RuleMixin(StaffOnlyMixin):
    model = HypercareRule
    queryset = selectors.rule_list()
    verbose_name, verbose_name_plural = 'hypercare rule', 'hypercare rules'


class HypercareRuleListView(RuleMixin, ObjectListView):
    filterset_class = HypercareRuleFilterSet
    title = 'Hypercare rules'
    columns = [
        Column('name', linkify=True),
        'change_type',
        Column('change_model', order_by='change_model__name'),
        Column('service', order_by='service__name'),
        Column('duration_days', 'Days'),
        'active',
    ]


class HypercareRuleDetailView(RuleMixin, ObjectDetailView):
    fields = ['name', 'change_type', 'change_model', 'service', 'duration_days', 'active']


class HypercareRuleCreateView(RuleMixin, ObjectCreateView):
    form_class = HypercareRuleForm


class HypercareRuleEditView(RuleMixin, ObjectEditView):
    form_class = HypercareRuleForm


class HypercareRuleDeleteView(RuleMixin, ObjectDeleteView):
    pass


# ------------------------------------------------------------------------------------------------ cards
def incident_panel(request, ticket):
    """The incident page's card: the hypercare periods it is tagged with (none: no card)."""
    tags = selectors.tags_of_ticket(ticket)
    if not tags:
        return None
    return {'tags': tags, 'may_open': user_can(request.user, HypercarePeriod, 'view')}


def item_panel(request, ci):
    """A service's page: its current or next period and the last ones, with a start button for its managers."""
    if not ci.is_service or not user_can(request.user, HypercarePeriod, 'view'):
        return None
    periods = selectors.periods_of_service(ci)
    may_start = user_can(request.user, HypercarePeriod, 'add') and services.may_manage(request.user, ci)
    return {'periods': periods, 'service': ci, 'may_start': may_start}
