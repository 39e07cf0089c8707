"""Signing in and out and changing one's password, on Django's auth views with Pitcrew's templates."""

from django.contrib import messages
from django.contrib.auth import get_user_model, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from itsm import services
from itsm.audit import Actor
from itsm.forms import PasswordChangeForm, SignInForm
from itsm.navigation import landing_url


class LoginView(auth_views.LoginView):
    """Without a `next`, each person goes straight to their work view (`itsm.navigation.landing_url`)."""

    template_name = 'registration/login.html'
    redirect_authenticated_user = True
    authentication_form = SignInForm

    def get_default_redirect_url(self):
        return landing_url(self.request.user) or super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    """POST only (a link could be followed by a crawler or a prefetch); tells the person they are out."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, 'You are signed out.')
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form checks the old password and the policy; the change itself goes through `user_update`,
    so it is recorded on the person's timeline like any other change."""

    template_name = 'registration/password_change_form.html'
    form_class = PasswordChangeForm
    success_url = reverse_lazy('itsm:password_change_done')

    def form_valid(self, form):
        # request.user is a lazy proxy; the service snapshots a real instance.
        person = get_user_model()._default_manager.get(pk=self.request.user.pk)
        user = services.user_update(
            user=person, actor=Actor.from_request(self.request), password=form.cleaned_data['new_password1']
        )
        update_session_auth_hash(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


@require_POST
@login_required
def sign_out_everywhere(request):
    """End every session of the signed-in person, on every device, and revoke their API tokens."""
    person = get_user_model()._default_manager.get(pk=request.user.pk)
    services.user_sign_out_everywhere(user=person, actor=Actor.from_request(request))
    logout(request)
    messages.info(request, 'You are signed out on every device, and your API tokens are revoked.')
    return redirect('itsm:login')


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = 'registration/password_change_done.html'
