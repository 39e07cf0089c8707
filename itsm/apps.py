from django.apps import AppConfig
from django.db.models.signals import post_migrate

from .choices import Role
from .navigation import NavItem

STAFF = tuple(r for r in Role.values if r not in (Role.REQUESTER,))


class ItsmConfig(AppConfig):
    name = 'itsm'
    verbose_name = 'Pitcrew core'

    nav_items = [
        NavItem('People', 'itsm:user_list', 'itsm.view_user', icon='users', section='Directory', weight=900),
        NavItem(
            'Support groups',
            'itsm:supportgroup_list',
            'itsm.view_supportgroup',
            icon='users-group',
            section='Directory',
            weight=900,
        ),
    ]

    role_permissions = {
        STAFF: ['view_user', 'view_supportgroup'],
        # Files on records: whether a person may add one to a given record is the record's rule (itsm.conversation).
        tuple(Role.values): ['view_attachment', 'add_attachment'],
    }

    def ready(self):
        from .roles import sync_role_permissions
        from .runtime import tune_garbage_collector

        tune_garbage_collector()

        # Permissions exist only after migrate has created them, so role grants are synced then.
        post_migrate.connect(sync_role_permissions, dispatch_uid='itsm.sync_role_permissions')
