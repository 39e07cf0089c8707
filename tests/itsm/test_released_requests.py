"""What a request read is freed when the request ends, by reference counting: a rendered page's template context
(`itsm.template_backend`) and an API answer's serializer, view and request (`itsm.api.release`) no longer keep
the rows for the cyclic garbage collector. Each case also runs without the mechanism, to show the leak it stops.

Requests go through Django's WSGI handler, as a server calls it: the test client keeps the contexts it renders."""

import gc

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory, override_settings
from django.urls import reverse

from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.api.release import release
from itsm.choices import Role
from sla.models import SlaClock
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

DJANGO_TEMPLATES = [{**settings.TEMPLATES[0], 'BACKEND': 'django.template.backends.django.DjangoTemplates'}]
WITHOUT_RELEASE = [m for m in settings.MIDDLEWARE if m != 'itsm.api.release.ReleaseApiResponseMiddleware']


class ReleasedRequestTests(ItsmTestCase):
    def setUp(self):
        desk, self.agent = make_group_with_agent(name='Service Desk')
        for _ in range(3):
            make_ticket(state=TicketState.ACCEPTED, group=desk, agent=self.agent, caller=make_user(Role.REQUESTER))
        self.client.force_login(self.agent)

    def left_behind(self, path: str) -> dict[str, int]:
        """Serve `path` as a server would and drop the answer: how many tickets and clocks only the cyclic garbage
        collector then frees (it is off meanwhile, so they are counted before it runs)."""

        def alive() -> dict[str, int]:
            # By type: `isinstance` would follow a dead weak proxy among the objects and raise.
            types = [type(o) for o in gc.get_objects()]
            return {'tickets': types.count(Ticket), 'clocks': types.count(SlaClock)}

        cookie = f'{settings.SESSION_COOKIE_NAME}={self.client.cookies[settings.SESSION_COOKIE_NAME].value}'
        request = RequestFactory(HTTP_COOKIE=cookie).get(path)
        handler = WSGIHandler()
        gc.collect()
        gc.disable()
        try:
            response = handler.get_response(request)
            self.assertEqual(response.status_code, 200, response.content[:500])
            self.assertIn(b'INC', response.content)
            del response, request  # not closed: `request_finished` would close the test's database connection
            before = alive()
            gc.collect()
            after = alive()
        finally:
            gc.enable()
        return {name: before[name] - after[name] for name in after}

    def test_a_page_frees_its_rows_when_it_is_rendered(self):
        self.assertEqual(self.left_behind(reverse('incidents:ticket_list')), {'tickets': 0, 'clocks': 0})
        # A filter set is a small cycle of django-filter's (each filter names it) and keeps the queue's queryset,
        # whose clock prefetch Django marks with the first row it read: that one row, never the page.
        left = self.left_behind(f'{reverse("incidents:queue")}?q=all')
        self.assertLessEqual(left['tickets'], 1)
        self.assertEqual(left['clocks'], 0)

    @override_settings(TEMPLATES=DJANGO_TEMPLATES)
    def test_with_djangos_own_backend_the_context_keeps_the_rows(self):
        left = self.left_behind(reverse('incidents:ticket_list'))
        self.assertGreater(left['tickets'], 0)

    def test_an_api_list_and_a_ticket_free_their_rows_when_they_are_rendered(self):
        number = Ticket.objects.order_by('pk').first().number
        for path in ('/api/v1/incidents/', f'/api/v1/incidents/{number}/'):
            with self.subTest(path=path):
                self.assertEqual(self.left_behind(path), {'tickets': 0, 'clocks': 0})

    @override_settings(MIDDLEWARE=WITHOUT_RELEASE)
    def test_without_the_release_an_api_list_keeps_its_rows(self):
        left = self.left_behind('/api/v1/incidents/')
        self.assertGreater(left['tickets'], 0)

    def test_the_answer_keeps_its_data(self):
        response = self.api_client(self.agent).get('/api/v1/incidents/')
        self.assertEqual(len(response.data['results']), 3)
        self.assertIsNone(response.renderer_context)
        self.assertIsNone(response.data['results'].serializer)

    def test_anything_but_a_rendered_api_answer_is_left_alone(self):
        page = self.client.get(reverse('incidents:ticket_list'))
        release(page)
        self.assertIn('object_list', page.context)
        release(None)
