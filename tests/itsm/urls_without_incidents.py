"""The project's URLs without the incidents app's pages (tests/itsm/test_navigation.py)."""

from itsm import urls as project

urlpatterns = [
    pattern
    for pattern in project.urlpatterns
    if getattr(getattr(pattern, 'urlconf_module', None), '__name__', '') != 'incidents.urls'
]
