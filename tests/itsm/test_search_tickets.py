"""The search box and tickets: partial numbers jump to the one record they name, callers' names find their tickets."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Ticket
from itsm import search
from itsm.choices import Role, TicketKind
from tests.base import ItsmTestCase
from tests.factories import make_ticket, make_user


class NumberCandidateTests(ItsmTestCase):
    PREFIXES = {'INC', 'CS', 'CI'}

    def test_a_prefix_and_digits_name_one_zero_padded_number(self):
        for text in ('inc1003', 'INC1003', 'INC0001003', ' inc-1003 ', 'INC 1003', '#inc1003', 'inc00001003'):
            self.assertEqual(search.number_candidates(text, self.PREFIXES), ['INC0001003'], text)
        self.assertEqual(search.number_candidates('cs1003', self.PREFIXES), ['CS0001003'])

    def test_digits_alone_name_that_number_under_every_prefix(self):
        self.assertEqual(search.number_candidates('1003', self.PREFIXES), ['CI0001003', 'CS0001003', 'INC0001003'])

    def test_words_and_unknown_prefixes_are_no_number(self):
        for text in ('printer', 'win10', 'inc', '0', 'inc0', '1003 printer', ''):
            self.assertEqual(search.number_candidates(text, self.PREFIXES), [], text)

    def test_prefixes_in_use_include_those_of_a_shared_model(self):
        make_ticket(kind=TicketKind.CASE)
        self.assertIn('CS', search.known_prefixes())
        self.assertIn('INC', search.known_prefixes())


class NumberJumpTests(ItsmTestCase):
    def setUp(self):
        self.caller = make_user(Role.REQUESTER)
        self.incidents = [make_ticket(caller=self.caller) for _ in range(3)]
        self.cases = [make_ticket(kind=TicketKind.CASE) for _ in range(3)]
        self.incident, self.case = self.incidents[2], self.cases[2]
        self.assertEqual((self.incident.number, self.case.number), ('INC0001003', 'CS0001003'))
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def get(self, user, query):
        self.client.force_login(user)
        return self.client.get(reverse('itsm:search'), {'q': query})

    def test_a_partial_number_naming_one_record_opens_it(self):
        for query, record in (
            ('inc1003', self.incident),
            ('INC0001003', self.incident),
            ('cs1003', self.case),
            ('CS-1003', self.case),
        ):
            response = self.get(self.agent, query)
            self.assertRedirects(response, record.get_absolute_url(), fetch_redirect_response=False)

    def test_digits_naming_several_records_list_them_first(self):
        response = self.get(self.agent, '1003')
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            sorted(r.number for r in response.context['numbered']), ['CS0001003', 'INC0001003'], 'both kinds'
        )
        self.assertContains(response, 'data-testid="number-matches"')
        listed = [hit.pk for group in response.context['results'] for hit in group.hits]
        self.assertNotIn(self.incident.pk, listed, 'a number match is not listed twice')
        self.assertEqual(response.context['total'], 2)

    def test_a_number_nobody_has_falls_back_to_words(self):
        response = self.get(self.agent, 'inc9999')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context['numbered'], [])
        self.assertContains(response, 'No matches for “inc9999”')

    def test_requesters_only_jump_to_their_own_records(self):
        response = self.get(self.caller, '1003')
        self.assertRedirects(response, self.incident.get_absolute_url(), fetch_redirect_response=False)
        response = self.get(self.caller, 'cs1003')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context['numbered'], [])
        self.assertNotContains(response, self.case.number)
        self.assertNotContains(response, self.case.short_description)

    def test_a_converted_ticket_is_found_by_its_former_number(self):
        from incidents import services as ticket_services
        from itsm.audit import Actor

        converted = ticket_services.ticket_convert(
            ticket=self.incidents[0], actor=Actor(user=self.agent), to_kind=TicketKind.CASE
        )
        self.assertEqual(search.find_by_number(self.agent, 'inc1001'), converted)

    def test_number_lookups_use_the_exact_numbers_not_like(self):
        with CaptureQueriesContext(connection) as queries:
            found = search.number_matches(self.agent, 'inc1003')
        self.assertEqual(found, [self.incident])
        ticket_sql = [q['sql'] for q in queries.captured_queries if Ticket._meta.db_table in q['sql']]
        self.assertEqual(len(ticket_sql), 1)
        self.assertIn('IN', ticket_sql[0])
        self.assertNotIn('LIKE', ticket_sql[0].upper())

    def test_words_that_are_numbers_match_numbers_exactly(self):
        (group,) = [g for g in search.search(self.agent, 'inc1002 printer') if g.target.model is Ticket]
        self.assertEqual(group.hits, [self.incidents[1]])


class CallerNameTests(ItsmTestCase):
    def setUp(self):
        self.caller = make_user(Role.REQUESTER, username='zq.feather', first_name='Zephyrine', last_name='Quillfeather')
        self.other = make_user(Role.REQUESTER, username='someone.else', first_name='Bob', last_name='Stone')
        self.ticket = make_ticket(caller=self.caller, short_description='VPN drops every hour')
        self.others = make_ticket(caller=self.other, short_description='Monitor flickers')
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def ticket_hits(self, user, query):
        return [hit for group in search.search(user, query) if group.target.model is Ticket for hit in group.hits]

    def test_first_last_full_name_and_username_find_the_callers_tickets(self):
        for query in ('Zephyrine', 'quillfeather', 'Zephyrine Quillfeather', 'zq.feather', 'quillfeather vpn'):
            self.assertEqual(self.ticket_hits(self.agent, query), [self.ticket], query)
        self.assertEqual(self.ticket_hits(self.agent, 'quillfeather monitor'), [], 'every word must match')

    def test_the_result_names_the_caller(self):
        response = self.client_for(self.agent).get(reverse('itsm:search'), {'q': 'quillfeather'})
        self.assertContains(response, 'Caller: Zephyrine Quillfeather')
        self.assertContains(response, self.ticket.get_absolute_url())

    def test_requesters_do_not_find_other_callers_tickets(self):
        self.assertEqual(self.ticket_hits(self.other, 'quillfeather'), [])
        self.assertEqual(self.ticket_hits(self.caller, 'quillfeather'), [self.ticket])

    def test_the_page_costs_the_same_whatever_the_number_of_hits(self):
        client = self.client_for(self.agent)
        url = reverse('itsm:search')
        client.get(url, {'q': 'quillfeather'})
        few = self.count_queries(lambda: client.get(url, {'q': 'quillfeather'}))
        for n in range(4):
            make_ticket(caller=self.caller, short_description=f'Another issue {n}')
        many = self.count_queries(lambda: client.get(url, {'q': 'quillfeather'}))
        self.assertEqual(few, many)

    def client_for(self, user):
        self.client.force_login(user)
        return self.client
