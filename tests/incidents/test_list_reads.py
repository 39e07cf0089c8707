"""How ticket lists read: no wide join, references attached from one query per table, bounded counts, the API's
cursor mode, and query counts that stay fixed whatever the page holds."""

import base64
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import selectors
from incidents.choices import TicketState
from incidents.models import Category, Ticket
from itsm.choices import Role
from itsm.paginator import BoundedPaginator
from tests.base import ItsmTestCase, load_related
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState
TABLE = Ticket._meta.db_table
API = '/api/v1/incidents/'


class ListReadTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.client.force_login(self.agent)

    def ticket(self, state=S.ACCEPTED, **fields):
        return make_ticket(state=state, group=self.desk, agent=self.agent, caller=make_user(Role.REQUESTER), **fields)

    def captured(self, func) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            func()
        return [query['sql'] for query in queries.captured_queries]


class NoWideJoinTests(ListReadTestCase):
    def test_pages_read_tickets_from_the_ticket_table_alone(self):
        category = Category.objects.create(name='Plotters')
        self.ticket(category=category)
        self.ticket()
        for url in (reverse('incidents:ticket_list'), f'{reverse("incidents:queue")}?q=all', API):
            with self.subTest(url=url):
                statements = self.captured(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                reads = [sql for sql in statements if sql.startswith(f'SELECT "{TABLE}"."id"')]
                self.assertGreaterEqual(len(reads), 2)  # the page's ids, then its rows
                for sql in reads:
                    self.assertNotIn('JOIN', sql.split(' WHERE ')[0], sql)

    def test_references_are_attached_without_a_query_per_row(self):
        category = Category.objects.create(name='Plotters')
        for _ in range(3):
            self.ticket(category=category)
        tickets = list(selectors.ticket_list().order_by('pk')[:10])
        with self.assertNumQueries(0):
            names = [(str(t.caller), str(t.assignee), str(t.assignment_group), str(t.category)) for t in tickets]
        self.assertEqual({n[1:] for n in names}, {(str(self.agent), str(self.desk), 'Plotters')})

    def test_the_api_list_reads_only_what_it_shows_of_the_references(self):
        category = Category.objects.create(name='Plotters')
        ticket = self.ticket(category=category)
        statements = self.captured(lambda: self.assertHttpStatus(self.client.get(API), 200))
        people = [sql for sql in statements if sql.startswith('SELECT "itsm_user"."id"') and ' IN (' in sql]
        self.assertEqual(len(people), 1, statements)
        self.assertIn('"itsm_user"."username"', people[0])
        self.assertNotIn('"itsm_user"."email"', people[0])
        row = next(r for r in self.client.get(API).json()['results'] if r['number'] == ticket.number)
        self.assertEqual(
            (row['caller'], row['assignee'], row['group'], row['category']),
            (ticket.caller.username, self.agent.username, self.desk.name, 'Plotters'),
        )
        # The detail and the pages read whole rows (what they show of a person is more than a username).
        detail = self.captured(lambda: self.client.get(f'{API}{ticket.number}/'))
        self.assertTrue(any('"itsm_user"."email"' in sql for sql in detail if 'FROM "itsm_user"' in sql))

    def test_a_lookup_by_number_reads_one_row(self):
        ticket = self.ticket()
        statements = self.captured(lambda: selectors.ticket_by_number(ticket.number))
        rows = [sql for sql in statements if f'FROM "{TABLE}"' in sql]
        self.assertEqual(len(rows), 1, rows)


class BoundedCountTests(ListReadTestCase):
    def test_list_pages_and_the_api_never_count_the_whole_table(self):
        self.ticket()
        queue = f'{reverse("incidents:queue")}?q=all'
        for url in (reverse('incidents:ticket_list'), f'{queue}&search=printer', API):
            with self.subTest(url=url):
                statements = self.captured(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                counts = [sql for sql in statements if 'COUNT(*)' in sql.upper() and f'"{TABLE}"' in sql]
                self.assertTrue(counts)
                for sql in counts:
                    self.assertIn('LIMIT 10001', sql)

    def test_an_unfiltered_queue_takes_its_count_from_the_sidebar(self):
        for _ in range(3):
            self.ticket()
        url = f'{reverse("incidents:queue")}?q=all'
        statements = self.captured(lambda: self.assertHttpStatus(self.client.get(url), 200))
        counts = [sql for sql in statements if 'COUNT(' in sql.upper() and f'"{TABLE}"' in sql]
        self.assertEqual(len(counts), 1, counts)  # the sidebar's, over the open tickets only
        self.assertIn('"state" IN', counts[0])
        response = self.client.get(url)
        links = {name: count for name, _, count in response.context['queue_links']}
        self.assertEqual((response.context['page_obj'].paginator.count, links['all']), (3, 3))

    @mock.patch.object(BoundedPaginator, 'bound', 2)
    def test_past_the_bound_the_page_says_more_than(self):
        for _ in range(3):
            self.ticket()
        response = self.client.get(reverse('incidents:ticket_list'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'of more than 2')
        self.assertContains(response, 'more than 2 tickets')

    @mock.patch.object(BoundedPaginator, 'bound', 2)
    def test_past_the_bound_the_api_count_is_a_lower_bound_and_next_carries_on_by_cursor(self):
        numbers = [self.ticket().number for _ in range(4)]
        client = self.api_client(self.agent)
        page = client.get(API, {'page_size': 2}).data
        self.assertEqual((page['count'], page['count_exact']), (2, False))
        self.assertIn('cursor=', page['next'])
        rest = client.get(page['next']).data
        self.assertEqual([r['number'] for r in page['results'] + rest['results']], numbers)

    def test_within_the_bound_the_api_answer_is_as_it_was(self):
        self.ticket()
        page = self.api_client(self.agent).get(API).data
        self.assertEqual(set(page), {'count', 'next', 'previous', 'results'})
        self.assertEqual(page['count'], 1)


class CursorTests(ListReadTestCase):
    def test_following_next_reads_every_ticket_once_in_queue_order(self):
        tickets = [self.ticket(impact=impact) for impact in ('low', 'high', 'medium', 'low', 'high')]
        expected = list(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).order_by(*selectors.QUEUE_ORDER))
        client = self.api_client(self.agent)
        url, seen = f'{API}?cursor=&page_size=2', []
        while url:
            page = client.get(url)
            self.assertHttpStatus(page, 200)
            self.assertIsNone(page.data['count'])
            seen += [r['number'] for r in page.data['results']]
            url = page.data['next']
        self.assertEqual(seen, [t.number for t in expected])

    def test_cursor_pages_cost_the_same_queries_wherever_they_are(self):
        for _ in range(6):
            self.ticket()
        client = self.api_client(self.agent)
        first = client.get(API, {'cursor': '', 'page_size': 2})
        first_cost = self.count_queries(lambda: client.get(API, {'cursor': '', 'page_size': 2}))
        later_cost = self.count_queries(lambda: client.get(first.data['next']))
        self.assertEqual(first_cost, later_cost)

    def test_a_cursor_that_is_not_one_is_refused(self):
        client = self.api_client(self.agent)
        nested = base64.urlsafe_b64encode(b'[' * 5000).decode()  # deeper than the JSON parser goes
        wrong_length = base64.urlsafe_b64encode(b'[1]').decode()
        for cursor in ('not-a-cursor', nested, wrong_length):
            with self.subTest(cursor=cursor[:20]):
                response = client.get(API, {'cursor': cursor})
                self.assertHttpStatus(response, 400)
                self.assertIn('cursor', response.json())


class QueryCountTests(ListReadTestCase):
    def test_list_pages_cost_a_fixed_number_of_queries(self):
        category = Category.objects.create(name='Plotters')
        urls = (
            reverse('incidents:ticket_list'),
            f'{reverse("incidents:queue")}?q=all',
            reverse('incidents:queue_group', args=[self.desk.pk]),
            API,
        )
        self.ticket(category=category)
        small = {url: self.count_queries(lambda url=url: self.client.get(url)) for url in urls}
        for _ in range(4):
            self.ticket(category=category)
            self.ticket(state=S.PENDING)
        large = {url: self.count_queries(lambda url=url: self.client.get(url)) for url in urls}
        self.assertEqual(small, large)

    def test_the_ticket_page_and_the_api_detail_cost_a_fixed_number_of_queries(self):
        category = Category.objects.create(name='Plotters')
        one_child, three_children = self.ticket(category=category), self.ticket(category=category)
        make_ticket(parent=one_child)
        for _ in range(3):
            make_ticket(parent=three_children, caller=make_user(Role.REQUESTER))
        numbers = (one_child.number, three_children.number)
        client = self.api_client(self.agent)

        def page(number):
            return self.client.get(reverse('incidents:ticket_detail', kwargs={'number': number}))

        def page_and_related(number):
            response = load_related(self.client, page(number))
            self.assertContains(response, f'Children ({1 if number == one_child.number else 3})')
            return response

        for number in numbers:
            page_and_related(number)
            client.get(f'{API}{number}/')
        pages = {n: self.count_queries(lambda n=n: page(n)) for n in numbers}
        with_related = {n: self.count_queries(lambda n=n: page_and_related(n)) for n in numbers}
        api = {n: self.count_queries(lambda n=n: client.get(f'{API}{n}/')) for n in numbers}
        self.assertEqual(len(set(pages.values())), 1, pages)
        # The page itself: session, person, access, the ticket, its clocks, four references, history, files and
        # the response templates; the related records and panels come in a request of their own.
        self.assertLessEqual(max(pages.values()), 12, pages)
        self.assertEqual(len(set(with_related.values())), 1, with_related)
        self.assertEqual(len(set(api.values())), 1, api)
        self.assertLessEqual(max(api.values()), 12, api)


@mock.patch.object(BoundedPaginator, 'bound', 2)
class ListPagesReadOnTests(ListReadTestCase):
    """Past the counted rows, list pages read on by the list's sort key (`?after=`), newest first or sorted."""

    LIST = '/tickets/'

    def read_all(self, url: str) -> list[str]:
        """Every ticket number the pages show, following "Next rows" from `url` to the end."""
        seen = []
        while url:
            response = self.client.get(url)
            self.assertHttpStatus(response, 200)
            seen += [t.number for t in response.context['object_list']]
            page = response.context['page_obj']
            url = page.next_url if getattr(page, 'is_keyset', False) else page.read_on_url
        return seen

    def test_next_rows_read_every_ticket_once_in_the_lists_order(self):
        tickets = [self.ticket() for _ in range(7)]
        expected = list(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).order_by('-opened_at', '-id'))
        first = self.client.get(self.LIST, {'per_page': 2})
        self.assertContains(first, 'data-testid="next-rows"')
        self.assertEqual(self.read_all(f'{self.LIST}?per_page=2'), [t.number for t in expected])
        last = self.client.get(first.context['page_obj'].read_on_url)
        self.assertContains(last, 'rows further on')

    def test_a_sorted_list_reads_on_in_its_sort(self):
        tickets = [self.ticket() for _ in range(5)]
        numbers = sorted(t.number for t in tickets)
        self.assertEqual(self.read_all(f'{self.LIST}?per_page=2&sort=number'), numbers)
        self.assertEqual(self.read_all(f'{self.LIST}?per_page=2&sort=-number'), numbers[::-1])

    def test_the_end_of_the_list_says_so(self):
        for _ in range(3):
            self.ticket()
        response = self.client.get(self.LIST, {'per_page': 2})
        rest = self.client.get(response.context['page_obj'].read_on_url)
        self.assertEqual(len(rest.context['object_list']), 1)
        self.assertContains(rest, 'End of the list')

    def test_a_link_that_no_longer_fits_goes_back_to_the_first_page_and_says_so(self):
        for _ in range(3):
            self.ticket()
        nested = base64.urlsafe_b64encode(b'[' * 5000).decode()
        other_sort = self.client.get(self.LIST, {'per_page': 2}).context['page_obj'].read_on_url.split('after=')[1]
        for after, extra in (('garbage!', {}), (nested, {}), (other_sort, {'sort': 'priority'})):
            with self.subTest(after=after[:12]):
                response = self.client.get(self.LIST, {'per_page': 2, 'after': after, **extra}, follow=True)
                self.assertHttpStatus(response, 200)
                self.assertContains(response, 'no longer fits this list')
                self.assertEqual(len(response.context['object_list']), 2)

    def test_reading_on_costs_the_same_queries_wherever_it_is(self):
        for _ in range(8):
            self.ticket()
        first = self.client.get(self.LIST, {'per_page': 2}).context['page_obj'].read_on_url
        second = self.client.get(first).context['page_obj'].next_url
        near = self.count_queries(lambda: self.assertHttpStatus(self.client.get(first), 200))
        far = self.count_queries(lambda: self.assertHttpStatus(self.client.get(second), 200))
        self.assertEqual(near, far)
