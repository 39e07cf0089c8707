"""Time zones: each person's zone is active for their requests and e-mails, one format shows every time with its
zone, the profile sets the zone (and the admin API), and an invalid zone can never be stored."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.core import mail
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import dateformat, timezone, translation

from incidents import services as tickets
from incidents.choices import PendingReason
from itsm import services
from itsm.audit import Actor
from itsm.choices import Role
from itsm.middleware import TimeZoneMiddleware
from itsm.models import User
from itsm.timezones import _format_moment, format_datetime, format_relative, zones_of_addresses
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.sla.factories import all_priorities, frozen

PARIS = ZoneInfo('Europe/Paris')
UTC = dt.UTC


def render(source: str, **context) -> str:
    return Template('{% load itsm %}' + source).render(Context(context))


def zone_seen_by(user) -> str:
    """The zone a request of `user` runs in."""
    seen = {}

    def view(request):
        seen['zone'] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get('/')
    request.user = user
    TimeZoneMiddleware(view)(request)
    return seen['zone']


class MiddlewareTests(ItsmTestCase):
    def test_a_persons_zone_is_active_for_their_request_and_only_theirs(self):
        self.assertEqual(zone_seen_by(make_user(time_zone='Europe/Paris')), 'Europe/Paris')
        self.assertEqual(zone_seen_by(make_user(time_zone='Asia/Tokyo')), 'Asia/Tokyo')
        self.assertEqual(timezone.get_current_timezone_name(), 'UTC')  # restored after the request

    @override_settings(TIME_ZONE='America/New_York')
    def test_without_a_zone_the_desks_applies(self):
        from django.contrib.auth.models import AnonymousUser

        self.assertEqual(zone_seen_by(make_user(time_zone='')), 'America/New_York')
        self.assertEqual(zone_seen_by(AnonymousUser()), 'America/New_York')

    def test_a_zone_the_system_does_not_know_falls_back_to_the_desks(self):
        person = make_user()
        User.objects.filter(pk=person.pk).update(time_zone='Mars/Olympus_Mons')  # behind every check's back
        person.refresh_from_db()
        self.assertEqual(zone_seen_by(person), 'UTC')
        self.client.force_login(person)
        self.assertHttpStatus(self.client.get(reverse('itsm:profile')), 200)

    def test_an_invalid_zone_cannot_be_stored(self):
        person = make_user(Role.ADMINISTRATOR)
        with self.assertRaises(ValidationError):
            services.user_update(user=person, actor=Actor(user=person), time_zone='Europe/Atlantis')
        person.refresh_from_db()
        self.assertEqual(person.time_zone, '')
        # The profile form
        self.client.force_login(person)
        response = self.client.post(reverse('itsm:profile'), {'time_zone': 'Europe/Atlantis'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'is not a known time zone')
        person.refresh_from_db()
        self.assertEqual(person.time_zone, '')
        # The API
        api = self.api_client(person)
        url = reverse('api:user-detail', args=[person.pk])
        refused = api.patch(url, {'time_zone': 'Europe/Atlantis'}, format='json')
        self.assertHttpStatus(refused, 400)
        self.assertIn('time_zone', refused.data)
        accepted = api.patch(url, {'time_zone': 'Asia/Kolkata'}, format='json')
        self.assertHttpStatus(accepted, 200)
        self.assertEqual(accepted.data['time_zone'], 'Asia/Kolkata')


class FormatTests(ItsmTestCase):
    def test_one_format_with_the_zone_across_a_daylight_saving_change(self):
        before = dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # 01:59 in Paris, winter time
        after = dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # one minute later: 03:00 summer time
        with timezone.override(PARIS):
            self.assertEqual(format_datetime(before), '29 Mar 2026 01:59 CET')
            self.assertEqual(format_datetime(after), '29 Mar 2026 03:00 CEST')
            autumn = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, then 02:30 again in CET
            self.assertEqual(format_datetime(autumn), '25 Oct 2026 02:30 CEST')
            self.assertEqual(format_datetime(autumn + dt.timedelta(hours=1)), '25 Oct 2026 02:30 CET')
        self.assertEqual(format_datetime(after), '29 Mar 2026 01:00 UTC')
        self.assertEqual(format_datetime(after, ZoneInfo('America/New_York')), '28 Mar 2026 21:00 EDT')

    def test_the_filters_show_the_time_with_its_zone_and_the_instant_in_the_markup(self):
        moment = dt.datetime(2026, 12, 5, 13, 5, tzinfo=UTC)
        with timezone.override(PARIS):
            html = render('{{ t|when }}', t=moment)
            self.assertIn('>5 Dec 2026 14:05 CET</time>', html)
            self.assertIn('datetime="2026-12-05T13:05:00+00:00"', html)
            self.assertIn('title="Europe/Paris (CET)"', html)
            self.assertEqual(render('{{ t|when_text }}', t=moment), '5 Dec 2026 14:05 CET')
            self.assertEqual(render('{{ t|when_text }}', t='2026-12-05T13:05:00+00:00'), '5 Dec 2026 14:05 CET')
            self.assertEqual(render('{{ t|day }}', t=dt.datetime(2026, 12, 5, 23, 30, tzinfo=UTC)), '6 Dec 2026')
            self.assertIn('—', render('{{ t|when }}', t=None))
            with frozen(moment + dt.timedelta(hours=3, minutes=10)):
                html = render('{{ t|ago }}', t=moment)
            self.assertIn('title="5 Dec 2026 14:05 CET">3 h ago</time>', html)

    def test_relative_times(self):
        now = dt.datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
        cases = {
            dt.timedelta(seconds=20): 'just now',
            dt.timedelta(minutes=1): '1 min ago',
            dt.timedelta(minutes=59): '59 min ago',
            dt.timedelta(hours=5): '5 h ago',
            dt.timedelta(days=1): '1 day ago',
            dt.timedelta(days=3): '3 days ago',
            dt.timedelta(days=-2): 'in 2 days',
            dt.timedelta(days=40): '26 Oct 2026',
        }
        for delta, text in cases.items():
            self.assertEqual(format_relative(now - delta, now), text)

    @override_settings(DATETIME_DISPLAY_FORMAT='Y-m-d H:i T', DATE_DISPLAY_FORMAT='d/m/Y')
    def test_the_format_is_set_in_one_place(self):
        moment = dt.datetime(2026, 12, 5, 13, 5, tzinfo=UTC)
        self.assertEqual(render('{{ t|when_text }} {{ t|day }}', t=moment), '2026-12-05 13:05 UTC 05/12/2026')

    def test_every_format_character_reads_as_djangos_own_in_each_language(self):
        """The characters a row draws are computed directly; they must read as `DateFormat` writes them, in the
        active language (month names), and the others still come from `DateFormat`."""
        pattern = r'd j m n M y Y G H i s \a\t N D'
        for moment in (dt.datetime(2026, 1, 5, 3, 7, 9, tzinfo=UTC), dt.datetime(995, 12, 31, 23, 59, 1, tzinfo=UTC)):
            for language in ('en', 'de', 'fr'):
                with self.subTest(moment=moment, language=language), translation.override(language):
                    self.assertEqual(_format_moment(moment, pattern), dateformat.format(moment, pattern))


class PageTests(ItsmTestCase):
    def setUp(self):
        all_priorities(response=60, resolution=480)
        self.group, self.agent = make_group_with_agent()

    def test_a_paris_agent_sees_sla_due_times_in_paris_time(self):
        with frozen(dt.datetime(2026, 12, 7, 9, 0, tzinfo=UTC)):  # a Monday, 10:00 in Paris
            ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
            url = ticket.get_absolute_url()
            self.client.force_login(self.agent)
            desk_page = self.client.get(url).content.decode()
            User.objects.filter(pk=self.agent.pk).update(time_zone='Europe/Paris')
            paris_page = self.client.get(url).content.decode()
        # The response target (60 min, round the clock) is due at 10:00 UTC, 11:00 in Paris.
        self.assertIn('7 Dec 2026 10:00 UTC', desk_page)
        self.assertIn('7 Dec 2026 11:00 CET', paris_page)
        self.assertIn('due 7 Dec 2026 11:00 CET', paris_page)  # the badge's title
        self.assertNotIn('10:00 UTC', paris_page)
        self.assertNotRegex(paris_page, r'\d{4}-\d{2}-\d{2} \d{2}:\d{2}<')  # no time in another format

    def test_the_zone_costs_no_query(self):
        ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
        url = ticket.get_absolute_url()
        self.client.force_login(self.agent)
        self.client.get(url)
        desk = self.count_queries(lambda: self.client.get(url))
        User.objects.filter(pk=self.agent.pk).update(time_zone='Europe/Paris')
        paris = self.count_queries(lambda: self.client.get(url))
        self.assertEqual(desk, paris)

    def test_datetime_inputs_are_read_and_shown_in_the_persons_zone(self):
        agent = self.agent
        User.objects.filter(pk=agent.pk).update(time_zone='Europe/Paris')
        ticket = make_ticket(state='accepted', group=self.group, agent=agent)
        self.client.force_login(agent)
        url = reverse('incidents:ticket_pend', args=[ticket.number])
        form = self.client.get(url)
        self.assertContains(form, 'Your time zone: Europe/Paris (C')
        later = timezone.now() + dt.timedelta(days=30)
        typed = later.astimezone(PARIS).replace(second=0, microsecond=0)
        response = self.client.post(
            url, {'reason': PendingReason.VENDOR, 'note': '', 'until': typed.strftime('%Y-%m-%dT%H:%M')}
        )
        self.assertIn(response.status_code, (200, 302))
        ticket.refresh_from_db()
        self.assertEqual(ticket.pending_until, typed.astimezone(UTC))
        page = self.client.get(ticket.get_absolute_url())
        self.assertContains(page, format_datetime(typed, PARIS))

    def test_the_profile_sets_the_zone(self):
        person = make_user()
        self.client.force_login(person)
        page = self.client.get(reverse('itsm:profile'))
        self.assertContains(page, '<option value="Europe/Paris">Europe/Paris</option>', html=True)
        self.assertContains(page, 'The desk&#x27;s time zone (UTC)')
        data = {'time_zone': 'America/Argentina/Buenos_Aires'}
        page = self.client.post(reverse('itsm:profile'), data, follow=True)
        self.assertRedirects(page, reverse('itsm:profile'))
        person.refresh_from_db()
        self.assertEqual(person.time_zone, 'America/Argentina/Buenos_Aires')
        self.assertContains(page, 'Times are now shown in America/Argentina/Buenos_Aires (-03).')
        self.assertRegex(page.content.decode(), r'it is \d{1,2} \w{3} \d{4} \d{2}:\d{2} -03')
        self.assertEqual(self.timeline(person).last().changes[0]['field'], 'time_zone')
        self.client.post(reverse('itsm:profile'), {'time_zone': ''})
        person.refresh_from_db()
        self.assertEqual(person.time_zone, '')


class EmailTests(ItsmTestCase):
    def test_each_recipient_reads_times_in_their_own_zone(self):
        group, agent = make_group_with_agent()
        caller = make_user(email='robin@example.com', time_zone='Asia/Tokyo')
        ticket = make_ticket(state='accepted', group=group, agent=agent, caller=caller)
        until = dt.datetime(2027, 1, 15, 8, 30, tzinfo=UTC)
        mail.outbox.clear()
        with timezone.override(PARIS), self.captureOnCommitCallbacks(execute=True):
            # Acting from a page in Paris does not change what the caller reads.
            tickets.ticket_pend(ticket=ticket, actor=Actor(user=agent), reason=PendingReason.VENDOR, until=until)
        (message,) = [m for m in mail.outbox if m.to == ['robin@example.com']]
        self.assertIn('We expect to continue by 15 Jan 2027 17:30 JST', message.body)

    def test_recipients_in_different_zones_get_one_message_per_zone(self):
        make_user(email='a@example.com', time_zone='Europe/Paris')
        make_user(email='b@example.com', time_zone='Europe/Paris')
        make_user(email='c@example.com')
        zones = zones_of_addresses(['c@example.com', 'b@example.com', 'a@example.com', 'group@example.com'])
        self.assertEqual(
            [(zone.key, addresses) for zone, addresses in zones],
            [('Europe/Paris', ['a@example.com', 'b@example.com']), ('UTC', ['c@example.com', 'group@example.com'])],
        )


def test_no_template_formats_times_on_its_own():
    """Templates show times through the shared filters, never with a format of their own. Calendar labels that
    name only a day or a month ('F Y', 'D j M': no hour, minute or zone) are not times; ISO 'c' feeds attributes."""
    from pathlib import Path

    from django.conf import settings

    time_parts = 'aAfgGhHiPsuveOTZUrI'  # Django format characters of a time of day, a zone or a full timestamp
    own = re.compile(rf"\|date:'(?!c')[^']*[{time_parts}][^']*'|\|date:\"[^\"]*\"|\|timesince|\|naturaltime")
    offenders = [
        f'{path.relative_to(settings.BASE_DIR)}: {match.group(0)}'
        for path in sorted((Path(settings.BASE_DIR) / 'templates').rglob('*.*'))
        for match in own.finditer(path.read_text())
    ]
    assert offenders == []
