"""People pages: administrators create, edit and deactivate people (never delete them)."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.views import View

from itsm import selectors, services
from itsm.filters import UserFilterSet
from itsm.forms import UserCreateForm, UserEditForm

from .generic import Column, ObjectActionView, ObjectCreateView, ObjectDetailView, ObjectEditView, ObjectListView

__all__ = ('UserCreateView', 'UserDeactivateView', 'UserDetailView', 'UserEditView', 'UserListView')


class PeopleMixin:
    queryset = selectors.user_list()
    verbose_name = 'person'
    verbose_name_plural = 'people'


class UserListView(PeopleMixin, ObjectListView):
    filterset_class = UserFilterSet
    filter_labels = {'vip': 'VIP', 'is_active': 'Active'}
    columns = [
        Column('display_name', 'Name', order_by='last_name,first_name,username', linkify=True),
        'username',
        Column('email', 'E-mail'),
        'department',
        'location',
        Column('roles', 'Roles', order_by=None, template='itsm/cells/roles.html'),
        Column('vip', 'VIP'),
        Column('is_active', 'Active'),
    ]


class UserDetailView(PeopleMixin, ObjectDetailView):
    template_name = 'itsm/user_detail.html'
    fields = [
        'username',
        Column('email', 'E-mail'),
        'phone',
        'department',
        'location',
        Column('vip', 'VIP'),
        Column('is_active', 'Active'),
        'last_login',
        'date_joined',
    ]

    def dispatch(self, request, *args, **kwargs):
        # Everyone may read their own page (requesters hold no permission on people); others' pages are for staff.
        if request.user.is_authenticated and str(kwargs.get('pk')) == str(request.user.pk):
            return View.dispatch(self, request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_extra_context(self, obj):
        viewer = self.request.user
        return {
            'member_of': obj.support_groups.all(),
            'manages': obj.managed_groups.all(),
            # Their tickets as caller (open first) and what they recently did on records; requesters (on their own
            # page) see no internal notes.
            'caller_records': selectors.person_records(obj, viewer=viewer),
            'contacts': selectors.person_contacts(obj, public_only=viewer.is_requester_only),
        }


class UserCreateView(PeopleMixin, ObjectCreateView):
    form_class = UserCreateForm
    service = services.user_create


class UserEditView(PeopleMixin, ObjectEditView):
    form_class = UserEditForm
    service = services.user_update
    service_object_kwarg = 'user'


class UserEraseView(PeopleMixin, ObjectActionView):
    service = services.user_erase
    service_object_kwarg = 'user'
    action_label = 'Erase personal data'
    action_description = (
        'Their name, username, e-mail, phone, department and location are replaced for good, and the values in '
        'their own history are removed; they can no longer sign in. Their tickets, comments and every history '
        'that names them stay, under "Erased person". This cannot be undone.'
    )
    button_class = 'btn-danger'
    success_message = 'Personal data erased.'


class UserDeactivateView(PeopleMixin, ObjectActionView):
    service = services.user_deactivate
    service_object_kwarg = 'user'
    action_label = 'Deactivate'
    action_description = (
        'They will no longer be able to sign in or be assigned work. Their name stays in every record and '
        'history they appear in, and an administrator can reactivate them by editing the person.'
    )
    button_class = 'btn-danger'
    success_message = 'Deactivated: they can no longer sign in.'

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        if obj.pk == request.user.pk:
            messages.error(request, 'You cannot deactivate your own account.')
            return HttpResponseRedirect(obj.get_absolute_url())
        return super().post(request, *args, **kwargs)
