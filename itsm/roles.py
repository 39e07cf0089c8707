"""Roles as Django auth groups, and the permissions each role holds.

Every app's AppConfig declares `role_permissions = {role_slug: [codename, ...]}` for its own models; after each
migrate the role groups get exactly those permissions (the administrator gets every permission of the project's
apps). Permissions of other apps (auth, admin, ...) are left as an operator set them.
"""

from django.apps import apps

from .choices import Role

PROJECT_APPS = (
    'itsm',
    'cmdb',
    'sla',
    'incidents',
    'problems',
    'changes',
    'major_incidents',
    'statuspage',
    'knowledge',
    'reports',
    'inbox',
    'mailboxes',
    'monitoring',
    'webhooks',
    'oncall',
    'hypercare',
    'predictions',
)

# Everyone who works tickets (as opposed to requesters and API clients).
STAFF_ROLES = tuple(r for r in Role.values if r not in (Role.REQUESTER, Role.INTEGRATION))
AGENT_ROLES = (Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER, Role.L3_ENGINEER, Role.INCIDENT_MANAGER)


def expand(mapping: dict) -> dict[str, set[str]]:
    """Turn `{(role, role): [codename]}` or `{role: [...]}` keys into one set of codenames per role slug."""
    result: dict[str, set[str]] = {}
    for roles, codenames in mapping.items():
        for role in (roles,) if isinstance(roles, str) else roles:
            result.setdefault(str(role), set()).update(codenames)
    return result


def sync_role_permissions(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    groups = {slug: Group.objects.get_or_create(name=slug)[0] for slug in Role.values}
    project_perms = Permission.objects.filter(content_type__app_label__in=PROJECT_APPS).select_related('content_type')
    by_key = {(p.content_type.app_label, p.codename): p for p in project_perms}
    wanted: dict[str, set] = {slug: set() for slug in Role.values}
    for config in apps.get_app_configs():
        for slug, codenames in expand(getattr(config, 'role_permissions', {})).items():
            wanted[slug].update(by_key[(config.label, c)] for c in codenames if (config.label, c) in by_key)
    wanted[Role.ADMINISTRATOR] = set(by_key.values())
    for slug, group in groups.items():
        others = group.permissions.exclude(content_type__app_label__in=PROJECT_APPS)
        group.permissions.set([*others, *wanted[slug]])
