from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem

MANAGED = ('webhooksubscription',)
LOGGED = ('webhookdelivery', 'webhookattempt')


class WebhooksConfig(AppConfig):
    name = 'webhooks'
    verbose_name = 'Outbound webhooks'
    default_auto_field = 'django.db.models.BigAutoField'

    # API clients manage their own subscriptions (administrators hold every permission and see all of them).
    role_permissions = {
        Role.INTEGRATION: [f'{action}_{model}' for action in ('view', 'add', 'change', 'delete') for model in MANAGED]
        + [f'view_{model}' for model in LOGGED],
    }

    nav_items = [
        NavItem(
            'Webhooks',
            'webhooks:webhooksubscription_list',
            'webhooks.view_webhooksubscription',
            'webhook',
            'Configuration',
            810,
        ),
    ]

    def ready(self):
        from itsm import hooks
        from itsm.records import ProcessRecord

        from . import events

        hooks.subscribe(hooks.CREATED, events.on_created, model=ProcessRecord)
        hooks.subscribe(hooks.TRANSITIONED, events.on_transitioned, model=ProcessRecord)
        hooks.subscribe(hooks.COMMENTED, events.on_commented, model=ProcessRecord)
        hooks.subscribe(hooks.CLOCK_CROSSED, events.on_clock_crossed, model=ProcessRecord)
