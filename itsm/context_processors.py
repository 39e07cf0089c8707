"""Template context shared by every page."""

from django.conf import settings


def navigation(request):
    from itsm.navigation import menu_for

    return {
        'nav_menu': menu_for(getattr(request, 'user', None), getattr(request, 'path', '')),
        'pitcrew_version': settings.PITCREW_VERSION,
    }
