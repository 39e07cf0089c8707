"""WSGI entry point (gunicorn itsm.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
application = get_wsgi_application()

from itsm.runtime import freeze_startup_objects  # noqa: E402 (Django is set up by the line above)

freeze_startup_objects()
