"""Pages of incidents and cases: queues, ticket pages, the requester portal and the desk's reference data.

Tickets are addressed by number (`INC0001001`, `CS0001001`; a former number after a conversion still works).
The same ticket pages answer under /tickets/, /incidents/ and /cases/, named `ticket_*`, `incident_*` and
`case_*` like the API's routes; each action of `TICKET_ACTIONS` has its own name (`incidents:ticket_accept`, ...),
built by `itsm.views.records.record_routes`.
"""

from django.urls import path

from itsm.views.pickers import AssigneeOptionsView, PeopleOptionsView
from itsm.views.records import RecordActionView, record_routes

from .models import Ticket
from .views import filters, lookups, portal, queues, reference, tickets
from .views.tickets import TICKET_PAGE, TicketDetailView, TicketEditView


def ticket_routes(prefix: str, name: str, kind: str = '') -> list:
    return record_routes(TICKET_PAGE, prefix, name, detail_view=TicketDetailView, edit_view=TicketEditView, kind=kind)


accept_next = RecordActionView.as_view(
    page=TICKET_PAGE,
    done_message='You accepted {record.number}: {record.short_description}',
    nothing_message='Nothing is waiting in your groups: every assigned ticket has an owner.',
    back_url='incidents:queue',
)
# Whoever may open (or change) tickets gets the suggestions of the ticket forms.
people_options = PeopleOptionsView.as_view(model=Ticket, permission_action='add')
assignee_options = AssigneeOptionsView.as_view(model=Ticket, permission_action='change')

app_name = 'incidents'
urlpatterns = [
    # Queues
    path('queues/', queues.QueueView.as_view(), name='queue'),
    path('queues/group/<int:group_id>/', queues.QueueView.as_view(), name='queue_group'),
    path('queues/waiting/', queues.QueueWaitingView.as_view(), name='queue_waiting'),
    path('queues/accept-next/', accept_next, {'action': 'accept_next'}, name='accept_next'),
    # Lists and the create form
    path('tickets/', tickets.TicketListView.as_view(), name='ticket_list'),
    path('tickets/new/', tickets.TicketCreateView.as_view(), name='ticket_add'),
    path('incidents/', tickets.IncidentListView.as_view(), name='incident_list'),
    path('incidents/new/', tickets.TicketCreateView.as_view(kind='incident'), name='incident_add'),
    path('cases/', tickets.CaseListView.as_view(), name='case_list'),
    path('cases/new/', tickets.TicketCreateView.as_view(kind='case'), name='case_add'),
    # Ticket pages, actions, conversation
    *ticket_routes('tickets', 'ticket'),
    *ticket_routes('incidents', 'incident', 'incident'),
    *ticket_routes('cases', 'case', 'case'),
    path(
        'tickets/<recordnumber:number>/insert-template/',
        tickets.InsertTemplateView.as_view(),
        name='ticket_insert_template',
    ),
    # Form helpers (htmx)
    path('tickets/lookup/priority/', lookups.PriorityPreviewView.as_view(), name='priority_preview'),
    path('tickets/lookup/subcategories/', lookups.SubcategoryOptionsView.as_view(), name='subcategory_options'),
    path('tickets/lookup/ci-service/', lookups.CIServiceView.as_view(), name='ci_service'),
    path('tickets/lookup/people/', people_options, name='people_options'),
    path('tickets/lookup/cis/', lookups.CIOptionsView.as_view(), name='ci_options'),
    path('tickets/lookup/assignees/', assignee_options, name='assignee_options'),
    path(
        'tickets/lookup/filter-assignees/',
        filters.AssigneeFilterOptionsView.as_view(),
        name='filter_assignee_options',
    ),
    # Requester portal
    path('portal/', portal.PortalHomeView.as_view(), name='portal'),
    path('portal/new/', portal.PortalCreateView.as_view(), name='portal_new'),
    path('portal/<recordnumber:number>/', portal.PortalTicketView.as_view(), name='portal_ticket'),
    path('portal/<recordnumber:number>/comment/', portal.PortalCommentView.as_view(), name='portal_comment'),
    path('portal/<recordnumber:number>/attach/', portal.PortalAttachView.as_view(), name='portal_attach'),
    path('portal/<recordnumber:number>/confirm/', portal.PortalConfirmView.as_view(), name='portal_confirm'),
    path('portal/<recordnumber:number>/reject/', portal.PortalRejectView.as_view(), name='portal_reject'),
    # Categories
    path('categories/', reference.CategoryListView.as_view(), name='category_list'),
    path('categories/add/', reference.CategoryCreateView.as_view(), name='category_add'),
    path('categories/<int:pk>/', reference.CategoryDetailView.as_view(), name='category_detail'),
    path('categories/<int:pk>/edit/', reference.CategoryEditView.as_view(), name='category_edit'),
    path('categories/<int:pk>/delete/', reference.CategoryDeleteView.as_view(), name='category_delete'),
    # Priority matrix
    path('priority-matrix/', reference.PriorityMatrixView.as_view(), name='prioritymatrixentry_list'),
    path('priority-matrix/add/', reference.PriorityMatrixEntryCreateView.as_view(), name='prioritymatrixentry_add'),
    path(
        'priority-matrix/<int:pk>/',
        reference.PriorityMatrixEntryDetailView.as_view(),
        name='prioritymatrixentry_detail',
    ),
    path(
        'priority-matrix/<int:pk>/edit/',
        reference.PriorityMatrixEntryEditView.as_view(),
        name='prioritymatrixentry_edit',
    ),
    path(
        'priority-matrix/<int:pk>/reset/',
        reference.PriorityMatrixEntryResetView.as_view(),
        name='prioritymatrixentry_reset',
    ),
    # Response templates
    path('response-templates/', reference.ResponseTemplateListView.as_view(), name='responsetemplate_list'),
    path('response-templates/add/', reference.ResponseTemplateCreateView.as_view(), name='responsetemplate_add'),
    path(
        'response-templates/<int:pk>/', reference.ResponseTemplateDetailView.as_view(), name='responsetemplate_detail'
    ),
    path(
        'response-templates/<int:pk>/edit/', reference.ResponseTemplateEditView.as_view(), name='responsetemplate_edit'
    ),
    path(
        'response-templates/<int:pk>/delete/',
        reference.ResponseTemplateDeleteView.as_view(),
        name='responsetemplate_delete',
    ),
    # Routing rules
    path('routing-rules/', reference.RoutingRuleListView.as_view(), name='routingrule_list'),
    path('routing-rules/add/', reference.RoutingRuleCreateView.as_view(), name='routingrule_add'),
    path('routing-rules/<int:pk>/', reference.RoutingRuleDetailView.as_view(), name='routingrule_detail'),
    path('routing-rules/<int:pk>/edit/', reference.RoutingRuleEditView.as_view(), name='routingrule_edit'),
    path('routing-rules/<int:pk>/delete/', reference.RoutingRuleDeleteView.as_view(), name='routingrule_delete'),
]
