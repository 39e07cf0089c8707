"""What a signed-in person may do: their roles and permissions, read together in one query per request.

Django's `ModelBackend` reads a person's groups (our roles), their own permissions and their groups' permissions
with three queries, on every request that checks a role and a permission (nearly all of them). The same sets come
from one `UNION ALL` here and fill the caches Django's backend and `User.role_slugs` already keep on the instance.
The person's support groups (which records they work, whether they see security incidents) come with them, for
`itsm.selectors.member_group_ids` and `in_security_group`.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections

from .models import SupportGroup
from .selectors import keep_memberships

ROLE, GROUP_PERMISSION, OWN_PERMISSION, MEMBERSHIP = 'r', 'g', 'u', 'm'
ACCESS_CACHES = (
    '_role_slugs',
    '_user_perm_cache',
    '_group_perm_cache',
    '_perm_cache',
    '_member_group_ids',
    '_in_security_group',
)


def _access_sql(user_model) -> str:
    quote = connections['default'].ops.quote_name
    member = user_model.groups.through._meta
    granted = user_model.user_permissions.through._meta
    group_grant = Group.permissions.through._meta
    member_user, member_group = (quote(member.get_field(f).column) for f in ('user', 'group'))
    granted_user, granted_permission = (quote(granted.get_field(f).column) for f in ('user', 'permission'))
    grant_group, grant_permission = (quote(group_grant.get_field(f).column) for f in ('group', 'permission'))
    permission, content_type = quote(Permission._meta.db_table), quote(ContentType._meta.db_table)
    support_member = SupportGroup.members.through._meta
    support_member_group, support_member_user = (
        quote(support_member.get_field(f).column) for f in ('supportgroup', user_model._meta.model_name)
    )
    active, security = (SupportGroup._meta.get_field(f).column for f in ('active', 'security'))
    return (
        f"SELECT '{ROLE}', g.name, NULL FROM {quote(Group._meta.db_table)} g "
        f'JOIN {quote(member.db_table)} m ON m.{member_group} = g.id WHERE m.{member_user} = %s '
        f"UNION ALL SELECT '{GROUP_PERMISSION}', ct.app_label, p.codename FROM {quote(member.db_table)} m "
        f'JOIN {quote(group_grant.db_table)} gp ON gp.{grant_group} = m.{member_group} '
        f'JOIN {permission} p ON p.id = gp.{grant_permission} JOIN {content_type} ct ON ct.id = p.content_type_id '
        f'WHERE m.{member_user} = %s '
        f"UNION ALL SELECT '{OWN_PERMISSION}', ct.app_label, p.codename FROM {quote(granted.db_table)} up "
        f'JOIN {permission} p ON p.id = up.{granted_permission} JOIN {content_type} ct ON ct.id = p.content_type_id '
        f'WHERE up.{granted_user} = %s '
        # A support group as its id and its flags: 'a' when active, 's' when a security group.
        f"UNION ALL SELECT '{MEMBERSHIP}', CAST(sg.id AS varchar(20)), "
        f"CASE WHEN sg.{quote(active)} THEN 'a' ELSE '' END || CASE WHEN sg.{quote(security)} THEN 's' ELSE '' END "
        f'FROM {quote(SupportGroup._meta.db_table)} sg JOIN {quote(support_member.db_table)} sm '
        f'ON sm.{support_member_group} = sg.id WHERE sm.{support_member_user} = %s'
    )


def load_access(user) -> None:
    """Read `user`'s roles, permissions and support groups in one query (from the database the person was read
    from) and keep them on the instance. A superuser's permissions stay Django's (all of them); only their roles
    and groups are kept."""
    with connections[user._state.db or 'default'].cursor() as cursor:
        cursor.execute(_access_sql(type(user)), [user.pk] * 4)
        rows = cursor.fetchall()
    user._role_slugs = {name for kind, name, _ in rows if kind == ROLE}
    keep_memberships(user, [(int(pk), 'a' in flags, 's' in flags) for kind, pk, flags in rows if kind == MEMBERSHIP])
    if not user.is_superuser:
        user._group_perm_cache = {f'{app}.{code}' for kind, app, code in rows if kind == GROUP_PERMISSION}
        user._user_perm_cache = {f'{app}.{code}' for kind, app, code in rows if kind == OWN_PERMISSION}


def forget_access(user) -> None:
    """Drop what `load_access` kept (after the person's roles, permissions or support groups changed)."""
    for name in ACCESS_CACHES:
        user.__dict__.pop(name, None)


class DeskModelBackend(ModelBackend):
    """Django's `ModelBackend` with the person's roles and permissions read in one query."""

    def _get_permissions(self, user_obj, obj, from_name):
        loadable = user_obj.is_active and not user_obj.is_anonymous and obj is None and not user_obj.is_superuser
        if loadable and not hasattr(user_obj, f'_{from_name}_perm_cache'):
            load_access(user_obj)
        return super()._get_permissions(user_obj, obj, from_name)
