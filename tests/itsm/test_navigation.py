"""The menu's addresses are reversed once per script prefix and URL conf, and still follow both."""

from django.test import override_settings
from django.urls import clear_script_prefix, set_script_prefix

from itsm.choices import Role
from itsm.navigation import menu_for
from tests.base import ItsmTestCase

from . import urls_without_incidents


def addresses(user) -> dict[str, str]:
    return {item['label']: item['url'] for section in menu_for(user) for item in section['items']}


class MenuAddressTests(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)

    def test_the_addresses_follow_the_script_prefix(self):
        plain = addresses(self.agent)
        self.assertEqual(plain['Incidents'], '/incidents/')
        set_script_prefix('/desk/')
        try:
            self.assertEqual(addresses(self.agent)['Incidents'], '/desk/incidents/')
        finally:
            clear_script_prefix()
        self.assertEqual(addresses(self.agent), plain)

    def test_an_item_whose_page_is_not_routed_is_left_out(self):
        self.assertIn('Incidents', addresses(self.agent))
        with override_settings(ROOT_URLCONF=urls_without_incidents.__name__):
            shown = addresses(self.agent)
        self.assertNotIn('Incidents', shown)
        self.assertIn('Incidents', addresses(self.agent))
