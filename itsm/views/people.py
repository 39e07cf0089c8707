"""People pages: administrators create, edit and deactivate people (never delete them)."""

from django.contrib import messages
from django.http import HttpResponseRedirect

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

    def get_extra_context(self, obj):
        return {'member_of': obj.support_groups.all(), 'manages': obj.managed_groups.all()}


class UserCreateView(PeopleMixin, ObjectCreateView):
    form_class = UserCreateForm
    service = services.user_create


class UserEditView(PeopleMixin, ObjectEditView):
    form_class = UserEditForm
    service = services.user_update
    service_object_kwarg = 'user'


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
