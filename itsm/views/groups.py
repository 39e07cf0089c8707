"""Support group pages."""

from itsm import selectors, services
from itsm.filters import SupportGroupFilterSet
from itsm.forms import SupportGroupForm

from .generic import Column, ObjectCreateView, ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

__all__ = (
    'SupportGroupCreateView',
    'SupportGroupDeleteView',
    'SupportGroupDetailView',
    'SupportGroupEditView',
    'SupportGroupListView',
)

TIER_COLORS = {'L1': 'blue', 'L2': 'indigo', 'L3': 'purple', 'other': 'secondary'}


class SupportGroupListView(ObjectListView):
    queryset = selectors.support_group_list()
    filterset_class = SupportGroupFilterSet
    columns = [
        'name',
        Column('tier', colors=TIER_COLORS),
        'manager',
        Column('member_count', 'Members', css_class='text-end'),
        'escalation_group',
        'email',
        'active',
    ]


class SupportGroupDetailView(ObjectDetailView):
    queryset = selectors.support_group_list()
    template_name = 'itsm/supportgroup_detail.html'
    fields = [Column('tier', colors=TIER_COLORS), 'email', 'active', 'security', 'created_at']

    def get_extra_context(self, obj):
        return {
            'members': obj.members.order_by('first_name', 'last_name', 'username'),
            'escalated_from': obj.escalated_from.order_by('tier', 'name'),
            'tier_colors': TIER_COLORS,
        }


class SupportGroupCreateView(ObjectCreateView):
    queryset = selectors.support_group_list()
    form_class = SupportGroupForm
    service = services.support_group_create


class SupportGroupEditView(ObjectEditView):
    queryset = selectors.support_group_list()
    form_class = SupportGroupForm
    service = services.support_group_update
    service_object_kwarg = 'group'


class SupportGroupDeleteView(ObjectDeleteView):
    queryset = selectors.support_group_list()
