"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
application = get_asgi_application()

from itsm.runtime import freeze_startup_objects  # noqa: E402 (Django is set up by the line above)

freeze_startup_objects()
