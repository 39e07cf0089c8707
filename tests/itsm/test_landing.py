"""Every role lands on its work view, after signing in and on "/": people who work tickets on my work, managers on
the dashboard, requesters in the portal, administrators on the home overview."""

from django.urls import reverse

from itsm.choices import Role
from itsm.navigation import landing_url
from tests.base import ItsmTestCase
from tests.factories import UserFactory, make_user

HOME = reverse('itsm:home')
PASSWORD = UserFactory.password
MY_WORK = f'{reverse("incidents:queue")}?q=mine'
DASHBOARD = reverse('reports:overview')
PORTAL = reverse('incidents:portal')

EXPECTED = (
    ((Role.SERVICE_DESK_AGENT,), MY_WORK),
    ((Role.L2_ENGINEER,), MY_WORK),
    ((Role.L3_ENGINEER,), MY_WORK),
    ((Role.MANAGER,), DASHBOARD),
    ((Role.INCIDENT_MANAGER,), DASHBOARD),
    ((Role.REQUESTER,), PORTAL),
    ((), PORTAL),  # no role yet: they can still ask for help
    ((Role.INCIDENT_MANAGER, Role.L2_ENGINEER), MY_WORK),  # their own tickets come first
    ((Role.REQUESTER, Role.SERVICE_DESK_AGENT), MY_WORK),
    ((Role.ADMINISTRATOR,), ''),
    ((Role.SERVICE_OWNER,), ''),  # no dashboard of everything for them: the overview of what they can open
)


class LandingTests(ItsmTestCase):
    def test_each_role_lands_on_its_work_view_from_home(self):
        for roles, expected in EXPECTED:
            with self.subTest(roles=roles):
                user = make_user(*roles)
                self.assertEqual(landing_url(user), expected)
                self.client.force_login(user)
                response = self.client.get(HOME)
                if expected:
                    self.assertRedirects(response, expected)
                else:
                    self.assertHttpStatus(response, 200)
                    self.assertTemplateUsed(response, 'itsm/home.html')

    def test_signing_in_goes_straight_to_the_work_view(self):
        for roles, expected in EXPECTED:
            with self.subTest(roles=roles):
                user = make_user(*roles)
                self.client.logout()
                response = self.client.post(reverse('itsm:login'), {'username': user.username, 'password': PASSWORD})
                self.assertRedirects(response, expected or HOME, fetch_redirect_response=False)
                self.assertHttpStatus(self.client.get(response['Location']), 200)

    def test_a_next_address_still_wins(self):
        user = make_user(Role.SERVICE_DESK_AGENT)
        people = reverse('itsm:user_list')
        response = self.client.post(
            f'{reverse("itsm:login")}?next={people}', {'username': user.username, 'password': PASSWORD}
        )
        self.assertRedirects(response, people, fetch_redirect_response=False)

    def test_anonymous_people_sign_in_first(self):
        self.assertRedirects(self.client.get(HOME), f'{reverse("itsm:login")}?next=/')
        self.assertEqual(landing_url(None), '')
