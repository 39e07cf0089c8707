"""The home page, a person's own profile and the global search."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render

from itsm import search as search_registry
from itsm import selectors, services, timezones
from itsm.audit import Actor
from itsm.choices import Role, Tier
from itsm.forms import ProfileForm
from itsm.models import SupportGroup, User
from itsm.navigation import landing_url
from itsm.permissions import user_can

from .generic import add_service_errors


def _roles_of(user) -> list[str]:
    labels = dict(Role.choices)
    return [labels[slug] for slug in Role.values if slug in user.role_slugs()]


@login_required
def home(request):
    """Each person's work view (`itsm.navigation.landing_url`: my work, the dashboard, the portal); for the others
    (administrators), what they can do here: their roles and groups, their pages and the figures they may see."""
    user = request.user
    landing = landing_url(user)
    if landing:
        return redirect(landing)
    context = {
        'roles': _roles_of(user),
        'my_groups': selectors.user_groups_of(user).select_related('manager').order_by('tier', 'name'),
        'can_view_people': user_can(user, User, 'view'),
        'can_view_groups': user_can(user, SupportGroup, 'view'),
        'can_add_people': user_can(user, User, 'add'),
        'can_add_groups': user_can(user, SupportGroup, 'add'),
    }
    if context['can_view_people']:
        context['people'] = User.objects.aggregate(
            active=Count('pk', filter=Q(is_active=True)),
            inactive=Count('pk', filter=Q(is_active=False)),
            vip=Count('pk', filter=Q(is_active=True, vip=True)),
        )
    if context['can_view_groups']:
        per_tier = dict(
            SupportGroup.objects.active().values_list('tier').annotate(n=Count('pk')).values_list('tier', 'n')
        )
        context['groups_by_tier'] = [(label, per_tier.get(value, 0), value) for value, label in Tier.choices]
        context['groups_active'] = sum(per_tier.values())
        context['groups_without_members'] = SupportGroup.objects.active().filter(members__isnull=True).count()
    return render(request, 'itsm/home.html', context)


@login_required
def profile(request):
    """The signed-in person's own details, roles and groups (no model permission needed), and their time zone."""
    user = request.user
    form = ProfileForm(request.POST if request.method == 'POST' else None, instance=user)
    if request.method == 'POST':
        if form.is_valid():
            try:
                person = User.objects.get(pk=user.pk)
                services.user_update(user=person, actor=Actor.from_request(request), **form.service_fields())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f'Times are now shown in {timezones.zone_label(timezones.zone_of(person))}.')
                return redirect('itsm:profile')
        user.refresh_from_db(fields=['time_zone'])
    context = {
        'person': user,
        'form': form,
        'roles': _roles_of(user),
        'member_of': user.support_groups.select_related('manager').order_by('tier', 'name'),
        'manages': user.managed_groups.order_by('tier', 'name'),
    }
    return render(request, 'itsm/profile.html', context)


@login_required
def search(request):
    """`/search/?q=`: a (partial) reference number naming one record opens it, several are listed first; words
    list matches per model."""
    query = request.GET.get('q', '').strip()[:200]
    numbered = search_registry.number_matches(request.user, query) if query else []
    if len(numbered) == 1:
        return redirect(numbered[0].get_absolute_url())
    results = search_registry.search(request.user, query, exclude=numbered) if query else []
    context = {
        'query': query,
        'search_query': query,
        'numbered': numbered,
        'results': results,
        'total': len(numbered) + sum(len(group.hits) for group in results),
        'searched': [t.label for t in search_registry.targets_for(request.user)],
    }
    return render(request, 'itsm/search.html', context)
