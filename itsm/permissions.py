"""Permission checks shared by pages and the API: one map from action to model permission codename."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from rest_framework import permissions

# What each kind of request needs on the model it touches.
ACTION_PERMISSION = {'view': 'view', 'add': 'add', 'change': 'change', 'delete': 'delete'}
METHOD_ACTION = {
    'GET': 'view',
    'HEAD': 'view',
    'OPTIONS': 'view',
    'POST': 'add',
    'PUT': 'change',
    'PATCH': 'change',
    'DELETE': 'delete',
}


def permission_name(model, action: str) -> str:
    opts = model._meta
    return f'{opts.app_label}.{ACTION_PERMISSION[action]}_{opts.model_name}'


def user_can(user, model, action: str) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(permission_name(model, action)))


def may_write(user, obj) -> bool:
    """Beyond the model permission: whether `user` may change or delete this very object. A model with an
    ownership rule declares `writable_by(user)` (an SLA of a service its owner keeps); others leave it to roles."""
    rule = getattr(obj, 'writable_by', None)
    return rule is None or bool(rule(user))


class RolePermission(permissions.BasePermission):
    """API: an authenticated user whose roles grant the model permission for the request's method.

    Viewset actions (`@action`) declare `permission_action` ('view', 'change', ...) in their kwargs; the
    business rule for who may perform a transition is then checked by its service.
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method.lower() not in getattr(view, 'action_map', {}) and hasattr(view, 'action_map'):
            return True  # no handler for this method: let the view answer 405 instead of a misleading 403
        queryset = getattr(view, 'queryset', None)
        if queryset is None and hasattr(view, 'get_queryset'):
            queryset = view.get_queryset()
        if queryset is None:
            return True
        action = getattr(view, 'permission_action', None) or METHOD_ACTION.get(request.method, 'change')
        if isinstance(action, dict):
            action = action.get(request.method, 'change')
        return user_can(request.user, queryset.model, action)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS or getattr(view, 'permission_action', None):
            return True  # reads, and actions whose services check their own rules
        return may_write(request.user, obj)


class ModelPermissionMixin(LoginRequiredMixin):
    """Pages: log in, then hold the model permission for `permission_action`."""

    permission_action = 'view'
    model = None

    def get_permission_model(self):
        return self.model or self.queryset.model

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_can(request.user, self.get_permission_model(), self.permission_action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
