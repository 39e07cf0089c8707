from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Ticket imports from other service desks' CSV exports (`manage.py import_incidents`).

    The app has no models of its own: an imported ticket is an ordinary ticket that remembers its source
    (`Ticket.source_system`, `source_number`), so every page, queue and report treats it like any other.
    """

    name = 'imports'
    verbose_name = 'Ticket imports'
