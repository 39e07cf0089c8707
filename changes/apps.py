from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = 'changes'
    verbose_name = 'Changes'

    def ready(self):
        from . import notifications

        notifications.register()
