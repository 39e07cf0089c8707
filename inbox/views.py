"""The inbox pages: the bell (an htmx fragment), my notifications, opening one, marking all read, e-mail preferences.

Every page is the signed-in person's own: the querysets hold their notifications only, so another person's
notification is a 404, whoever asks.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from itsm.audit import Actor
from itsm.views.generic import safe_next

from . import selectors, services
from .filters import NotificationFilterSet
from .forms import EmailPreferenceForm

PAGE_SIZE = 25


class BellView(LoginRequiredMixin, View):
    """The top bar's bell: the unread count and my latest notifications (loaded and polled by htmx)."""

    def get(self, request):
        context = {'unread': selectors.unread_count(request.user), 'latest': selectors.latest_for(request.user)}
        return render(request, 'inbox/_bell.html', context)


class NotificationListView(LoginRequiredMixin, View):
    """All my notifications, latest first, with the unread ones marked; `?unread=true` for those only."""

    def get(self, request):
        filterset = NotificationFilterSet(request.GET, queryset=selectors.notifications_for(request.user))
        queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get('page'))
        context = {
            'title': 'Notifications',
            'filterset': filterset,
            'page_obj': page_obj,
            'notifications': list(page_obj.object_list),
            'unread': selectors.unread_count(request.user),
            'unread_only': request.GET.get('unread') in ('true', 'True', '1'),
        }
        template = 'inbox/_list.html' if request.htmx and not request.htmx.boosted else 'inbox/notification_list.html'
        return render(request, template, context)


class NotificationOpenView(LoginRequiredMixin, View):
    """Open one of my notifications: mark it read and go to its record (or back to the inbox if it is gone)."""

    def get(self, request, pk: int):
        notification = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
        services.mark_read(notification=notification, user=request.user)
        url = selectors.record_url(notification, request.user)
        if not url:
            messages.info(request, f'{notification.number} is no longer available to you.')
            return redirect('inbox:notification_list')
        return redirect(url)


class MarkAllReadView(LoginRequiredMixin, View):
    http_method_names = ['post']

    def post(self, request):
        marked = services.mark_all_read(user=request.user)
        if request.htmx:
            response = render(request, 'inbox/_bell.html', {'unread': 0, 'latest': selectors.latest_for(request.user)})
            response['HX-Trigger'] = 'pc-inbox-changed'
            return response
        messages.success(request, f'{marked} notification{"s" if marked != 1 else ""} marked read.')
        return redirect(safe_next(request) or reverse('inbox:notification_list'))


class PreferencesView(LoginRequiredMixin, View):
    """Which of my notifications also reach me by e-mail."""

    template_name = 'inbox/preferences.html'

    def get(self, request):
        form = EmailPreferenceForm(instance=services.preferences_for(request.user))
        return render(request, self.template_name, {'title': 'Notification preferences', 'form': form})

    def post(self, request):
        form = EmailPreferenceForm(request.POST, instance=services.preferences_for(request.user))
        if not form.is_valid():
            context = {'title': 'Notification preferences', 'form': form}
            return render(request, self.template_name, context, status=400)
        services.preferences_update(user=request.user, fields=form.cleaned_data, actor=Actor.from_request(request))
        messages.success(request, 'Your notification preferences are saved.')
        return redirect('inbox:preferences')
