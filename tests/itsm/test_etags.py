"""ETags on process records: stable on reads, new on every write (fields, actions, comments), If-None-Match 304,
If-Match 412 on PATCH, actions and comments, If-Match: * passes, the comparison inside the write's row lock."""

import threading

import pytest
from django.db import connection
from django.test import Client

from incidents.models import Ticket
from itsm import audit
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket


class ETagTests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent()
        self.ticket = make_ticket(group=self.group, agent=self.agent, state='assigned')
        self.url = f'/api/v1/incidents/{self.ticket.number}/'
        self.client.force_login(self.agent)

    def etag(self) -> str:
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 200)
        return response['ETag']

    def patch(self, data, **headers):
        return self.client.patch(self.url, data, 'application/json', headers=headers)

    def action(self, name, data=None, **headers):
        return self.client.post(f'{self.url}{name}/', data or {}, 'application/json', headers=headers)

    def test_detail_carries_a_strong_etag_that_reads_do_not_change(self):
        first = self.etag()
        self.assertRegex(first, r'^"[0-9a-f]{32}"$')
        self.client.get(f'{self.url}timeline/')
        self.assertEqual(self.etag(), first)

    def test_if_none_match_answers_304_until_the_record_changes(self):
        current = self.etag()
        cached = self.client.get(self.url, headers={'If-None-Match': current})
        self.assertEqual(cached.status_code, 304)
        self.assertEqual(cached.content, b'')
        self.assertEqual(cached['ETag'], current)
        self.assertEqual(self.client.get(self.url, headers={'If-None-Match': f'W/{current}'}).status_code, 304)
        self.assertHttpStatus(self.patch({'short_description': 'Printer on fire'}), 200)
        self.assertEqual(self.client.get(self.url, headers={'If-None-Match': current}).status_code, 200)

    def test_patch_with_the_current_etag_succeeds_and_answers_the_new_one(self):
        current = self.etag()
        response = self.patch({'short_description': 'Printer on fire'}, **{'If-Match': current})
        self.assertHttpStatus(response, 200)
        self.assertNotEqual(response['ETag'], current)
        self.assertEqual(response['ETag'], self.etag())

    def test_patch_with_a_stale_etag_is_a_412_and_changes_nothing(self):
        stale = self.etag()
        self.assertHttpStatus(self.patch({'short_description': 'First edit'}), 200)
        response = self.patch({'short_description': 'Second edit'}, **{'If-Match': stale})
        self.assertHttpStatus(response, 412)
        body = response.json()
        self.assertEqual(body['code'], 'precondition_failed')
        self.assertEqual(body['etag'], self.etag())
        self.assertEqual(response['ETag'], self.etag())
        self.assertIn('changed since', body['detail'])
        self.assertEqual(Ticket.objects.get(pk=self.ticket.pk).short_description, 'First edit')

    def test_if_match_star_and_absent_if_match_pass(self):
        self.assertHttpStatus(self.patch({'short_description': 'Edit one'}, **{'If-Match': '*'}), 200)
        self.assertHttpStatus(self.patch({'short_description': 'Edit two'}), 200)
        self.assertHttpStatus(
            self.patch({'short_description': 'Edit three'}, **{'If-Match': f'"nope", {self.etag()}'}), 200
        )

    def test_actions_check_if_match_and_answer_the_new_etag(self):
        stale = self.etag()
        self.assertHttpStatus(self.patch({'short_description': 'Edited meanwhile'}), 200)
        refused = self.action('accept', **{'If-Match': stale})
        self.assertHttpStatus(refused, 412)
        self.assertEqual(Ticket.objects.get(pk=self.ticket.pk).state, 'assigned')
        current = self.etag()
        accepted = self.action('accept', **{'If-Match': current})
        self.assertHttpStatus(accepted, 200)
        self.assertEqual(Ticket.objects.get(pk=self.ticket.pk).state, 'accepted')
        self.assertNotEqual(accepted['ETag'], current)
        self.assertEqual(accepted['ETag'], self.etag())

    def test_a_comment_changes_the_etag_and_checks_if_match(self):
        before = self.etag()
        self.assertHttpStatus(self.action('comments', {'body': 'Looking into it'}), 201)
        after = self.etag()
        self.assertNotEqual(after, before)
        self.assertHttpStatus(self.action('comments', {'body': 'Again'}, **{'If-Match': before}), 412)
        self.assertEqual(self.timeline(self.ticket, TimelineKind.COMMENT).count(), 1)

    def test_a_work_note_changes_the_etag_but_a_notification_does_not(self):
        before = self.etag()
        audit.record(self.ticket, actor=Actor.system(), kind=TimelineKind.NOTIFICATION, message='Mailed the caller')
        self.assertEqual(self.etag(), before)
        self.assertHttpStatus(self.action('comments', {'body': 'Internal', 'internal': True}), 201)
        self.assertNotEqual(self.etag(), before)

    def test_a_refused_action_leaves_the_etag(self):
        current = self.etag()
        refused = self.action('complete', **{'If-Match': current})  # Assigned → Completed is not a move
        self.assertIn(refused.status_code, (400, 409))
        self.assertEqual(self.etag(), current)

    def test_the_etag_costs_one_query(self):
        with_etag = self.count_queries(lambda: self.client.get(self.url))
        listing = self.count_queries(lambda: self.client.get('/api/v1/incidents/'))
        self.assertLessEqual(with_etag, listing + 2)

    def test_other_records_carry_etags_too(self):
        requester = self.make_user(Role.REQUESTER)
        other = make_ticket(caller=requester, kind='case')
        self.client.force_login(requester)
        response = self.client.get(f'/api/v1/cases/{other.number}/')
        self.assertHttpStatus(response, 200)
        self.assertIn('ETag', response)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_writes_with_the_same_if_match_let_one_through():
    """Two connections PATCH with the ETag they both read: the row lock makes the second see the first's write."""
    group, agent = make_group_with_agent()
    ticket = make_ticket(group=group, agent=agent, state='assigned')
    url = f'/api/v1/incidents/{ticket.number}/'
    reader = Client()
    reader.force_login(agent)
    etag = reader.get(url)['ETag']
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def work(text):
        try:
            client = Client()
            client.force_login(agent)
            barrier.wait()
            response = client.patch(url, {'short_description': text}, 'application/json', headers={'If-Match': etag})
            statuses.append(response.status_code)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f'Edit {n}',)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(statuses) == [200, 412], statuses
