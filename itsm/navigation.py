"""The navigation menu: each AppConfig lists its `nav_items`; a person sees the items their roles allow.

An app declares, in its `apps.py`::

    from itsm.navigation import NavItem

    class IncidentsConfig(AppConfig):
        nav_items = [
            NavItem('Incidents', 'incidents:incident_list', 'incidents.view_incident', icon='alert-triangle',
                    section='Service desk', weight=10),
        ]

`icon` is a Tabler icon name (https://tabler.io/icons) without the `ti-` prefix. Sections are shown in the order
of the lowest `weight` among their items, then in app order.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from .choices import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str = ''  # 'app_label.codename'; empty means any signed-in person
    icon: str = ''
    section: str = ''
    weight: int = 100


def nav_section(section: str, permission: str, items: list[tuple]) -> list[NavItem]:
    """Items of one section from short rows `(label, url_name, icon, weight[, permission])`; a row's own
    permission replaces the section's."""
    return [
        NavItem(label, url, (rest or [permission])[0], icon, section, weight)
        for label, url, icon, weight, *rest in items
    ]


@lru_cache(maxsize=1024)
def _url(url_name: str, prefix: str, urlconf: str) -> str:
    """The menu item's address: the same on every page under one script prefix and URL conf, so reversed once (some
    sixty items, on every page)."""
    try:
        return reverse(url_name, urlconf=urlconf)
    except NoReverseMatch:
        return ''


def menu_for(user, path: str = '') -> list[dict]:
    """Sections of visible items: [{'section', 'items': [{'label', 'url', 'icon', 'active'}]}].

    The item whose URL is the longest prefix of `path` is marked active.
    """
    if not user or not user.is_authenticated:
        return []
    sections: dict[str, dict] = {}
    prefix, urlconf = get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF
    for config in apps.get_app_configs():
        for item in getattr(config, 'nav_items', ()):
            if item.permission and not user.has_perm(item.permission):
                continue
            url = _url(item.url_name, prefix, urlconf)
            if not url:
                continue
            name = item.section or str(config.verbose_name)
            section = sections.setdefault(name, {'section': name, 'weight': item.weight, 'items': []})
            section['weight'] = min(section['weight'], item.weight)
            section['items'].append({'label': item.label, 'url': url, 'icon': item.icon, 'active': False})
    menu = sorted(sections.values(), key=lambda s: s['weight'])
    matches = [i for s in menu for i in s['items'] if path.startswith(i['url']) and i['url'] != '/']
    if matches:
        max(matches, key=lambda i: len(i['url']))['active'] = True
    return [{'section': s['section'], 'items': s['items']} for s in menu]


@dataclass(frozen=True)
class Landing:
    """Where people holding one of `roles` start: their work view, named by URL so the core imports no app."""

    roles: tuple[str, ...]
    url_name: str
    permission: str = ''  # 'app_label.codename' the page needs; without it the next landing is tried
    query: str = ''


# The first landing whose roles a person holds (and whose page they may open) wins: people who work tickets
# start on their work, managers on the dashboard, requesters in the portal (domain §14). Administrators and
# anyone else start on the home overview.
LANDINGS = (
    Landing(
        (Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER, Role.L3_ENGINEER),
        'incidents:queue',
        'incidents.change_ticket',
        '?q=mine',
    ),
    Landing(
        (Role.MANAGER, Role.INCIDENT_MANAGER, Role.PROBLEM_MANAGER, Role.CHANGE_MANAGER, Role.SERVICE_OWNER),
        'reports:overview',
        'reports.view_dailyrollup',
    ),
    Landing((Role.REQUESTER,), 'incidents:portal'),
)


def landing_url(user) -> str:
    """The URL of the person's work view, or '' when the home overview is theirs."""
    if not user or not user.is_authenticated:
        return ''
    roles = user.role_slugs()
    if not roles and not user.is_superuser:
        roles = {Role.REQUESTER.value}  # nobody gave them a role yet: they can still ask for help
    for landing in LANDINGS:
        if not roles & {str(role) for role in landing.roles}:
            continue
        if landing.permission and not user.has_perm(landing.permission):
            continue
        try:
            return reverse(landing.url_name) + landing.query
        except NoReverseMatch:
            continue
    return ''
