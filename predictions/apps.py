from django.apps import AppConfig

from itsm.roles import STAFF_ROLES


class PredictionsConfig(AppConfig):
    name = 'predictions'
    verbose_name = 'Predictions'
    default_auto_field = 'django.db.models.BigAutoField'

    # Staff read profiles and predictions; only the system writes them. Requesters see a plain sentence in the
    # portal (incidents.views.portal), never the band.
    role_permissions = {
        STAFF_ROLES: ['view_durationprofile', 'view_prediction'],
    }

    def ready(self):
        from incidents.models import Ticket
        from itsm import hooks
        from itsm.views.records import register_panel

        from . import panels, services

        for event in (hooks.CREATED, hooks.CHANGED, hooks.TRANSITIONED):
            hooks.subscribe(event, services.ticket_touched, model=Ticket)
        register_panel(Ticket, 'predictions/_ticket_panel.html', panels.ticket_panel)
