"""Paging: which records page whom (once), escalation timing with explicit `now`, acknowledgement by link (expired,
reused, forged), in the UI and the API, and the timeline entries, e-mails and webhook events it leaves."""

import datetime as dt
from unittest import mock

from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from incidents import services as ticket_services
from itsm.audit import Actor
from itsm.choices import Impact, Role, TimelineKind, Urgency
from itsm.models import TimelineEntry
from oncall import services
from oncall.choices import PageState
from oncall.models import Page
from tests.base import ItsmTestCase
from tests.factories import make_ticket, make_user
from webhooks.models import WebhookDelivery

from .factories import make_oncall_group


def p1_fields():
    return {'impact': Impact.SEVERE, 'urgency': Urgency.CRITICAL}


class PagingTests(ItsmTestCase):
    def setUp(self):
        self.second = make_user(Role.L3_ENGINEER)
        levels = [
            {'notify': 'schedule', 'minutes': 10},
            {'notify': 'person', 'person': self.second.pk, 'minutes': 20},
            {'notify': 'manager'},
        ]
        self.group, self.people, self.schedule, self.policy = make_oncall_group(levels=levels)
        self.on_call = services.on_call_at(self.schedule)

    def open_p1(self, **fields):
        with self.captureOnCommitCallbacks(execute=True):
            ticket = make_ticket(state='assigned', group=self.group, agent=self.people[0], **{**p1_fields(), **fields})
        return ticket

    def pages(self, ticket):
        return Page.objects.filter(object_id=ticket.pk, record_number=ticket.number).order_by('level')

    def test_a_p1_pages_the_person_on_call_once_with_email_webhook_and_timeline(self):
        from tests.webhooks.factories import make_subscription

        make_subscription(events=['oncall.page'], owner=make_user(Role.INTEGRATION))
        with mock.patch('webhooks.tasks.deliver_task.delay'):
            ticket = self.open_p1()
        page = self.pages(ticket).get()
        self.assertEqual((page.level, page.recipient_id, page.state), (1, self.on_call, PageState.OPEN))
        recipient = page.recipient
        sent = [m for m in mail.outbox if recipient.email in m.to]
        self.assertEqual(len(sent), 1)
        self.assertIn('/oncall/ack/', sent[0].body)
        self.assertEqual(WebhookDelivery.objects.filter(event_type='oncall.page').count(), 1)
        entry = self.timeline(ticket, TimelineKind.NOTIFICATION).filter(message__startswith='Paged').get()
        self.assertIn('level 1', entry.message)
        # Editing and transitioning it again pages nobody a second time.
        with self.captureOnCommitCallbacks(execute=True):
            ticket = ticket_services.ticket_update(
                ticket=ticket, actor=Actor(user=self.people[0]), short_description='Still down'
            )
            ticket_services.ticket_accept(ticket=ticket, actor=Actor(user=self.people[0]))
        self.assertEqual(self.pages(ticket).count(), 1)
        self.assertEqual(len([m for m in mail.outbox if recipient.email in m.to]), 1)

    def test_a_page_task_delivered_again_sends_no_second_mail_or_event(self):
        from oncall.services import send_page
        from tests.webhooks.factories import make_subscription

        make_subscription(events=['oncall.page'], owner=make_user(Role.INTEGRATION))
        with mock.patch('webhooks.tasks.deliver_task.delay'):
            ticket = self.open_p1()
            page = self.pages(ticket).get()
            # The broker hands the same task to a worker again (the first one died after committing).
            with self.captureOnCommitCallbacks(execute=True):
                self.assertIsNone(send_page(page_id=page.pk))
        self.assertEqual(len([m for m in mail.outbox if page.recipient.email in m.to]), 1)
        self.assertEqual(WebhookDelivery.objects.filter(event_type='oncall.page').count(), 1)
        self.assertEqual(
            self.timeline(ticket, TimelineKind.NOTIFICATION).filter(message__startswith='Paged').count(), 1
        )

    def test_the_page_is_mailed_whatever_mail_the_person_turned_off(self):
        from inbox.models import EmailPreference

        EmailPreference.objects.create(
            user_id=self.on_call, updates=False, sla=False, assignments=False, replies=False, mentions=False
        )
        page = self.pages(self.open_p1()).get()
        self.assertEqual(len([m for m in mail.outbox if page.recipient.email in m.to]), 1)

    def test_a_p3_does_not_page_until_raised_to_p1(self):
        with self.captureOnCommitCallbacks(execute=True):
            ticket = make_ticket(state='assigned', group=self.group, agent=self.people[0])
        self.assertFalse(self.pages(ticket).exists())
        with self.captureOnCommitCallbacks(execute=True):
            ticket_services.ticket_override_priority(
                ticket=ticket, actor=Actor(user=make_user(Role.INCIDENT_MANAGER)), priority=1, reason='Whole floor'
            )
        self.assertEqual(self.pages(ticket).count(), 1)

    def test_groups_without_a_schedule_and_cases_page_nobody(self):
        with self.captureOnCommitCallbacks(execute=True):
            ticket = make_ticket(state='assigned', **p1_fields())
            case = make_ticket(kind='case', state='assigned', group=self.group, agent=self.people[0], **p1_fields())
        self.assertFalse(Page.objects.filter(record_number__in=[ticket.number, case.number]).exists())

    def test_monitoring_incidents_page_whatever_their_priority(self):
        ticket = self.open_p1(channel='monitoring', impact=Impact.LOW, urgency=Urgency.NORMAL)
        self.assertEqual(self.pages(ticket).get().reason, 'Incident opened by a monitoring alert')

    def test_escalation_timing_and_acknowledgement_stop(self):
        ticket = self.open_p1()
        first = self.pages(ticket).get()
        sent = first.sent_at
        self.assertEqual(services.escalate_due(now=sent + dt.timedelta(minutes=9, seconds=59)), 0)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(services.escalate_due(now=sent + dt.timedelta(minutes=10)), 1)
        second = self.pages(ticket).get(level=2)
        self.assertEqual(second.recipient, self.second)
        self.assertEqual(second.escalate_at, sent + dt.timedelta(minutes=30))
        self.assertEqual(self.pages(ticket).get(level=1).state, PageState.ESCALATED)
        self.assertEqual(services.escalate_due(now=sent + dt.timedelta(minutes=29)), 0)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(services.escalate_due(now=sent + dt.timedelta(minutes=30)), 1)
        third = self.pages(ticket).get(level=3)
        self.assertEqual(third.recipient, self.group.manager)
        self.assertIsNone(third.escalate_at)  # the last level waits for an acknowledgement
        self.assertEqual(services.escalate_due(now=sent + dt.timedelta(days=1)), 0)
        escalations = self.timeline(ticket, TimelineKind.NOTIFICATION).filter(data__event='oncall.escalated')
        self.assertEqual(escalations.count(), 2)
        services.page_acknowledge(page=third, actor=Actor(user=self.group.manager))
        self.assertEqual(self.pages(ticket).get(level=3).state, PageState.ACKNOWLEDGED)

    def test_nothing_escalates_after_an_acknowledgement(self):
        ticket = self.open_p1()
        page = self.pages(ticket).get()
        services.page_acknowledge(page=page, actor=Actor(user=page.recipient), now=page.sent_at)
        self.assertEqual(services.escalate_due(now=page.sent_at + dt.timedelta(hours=5)), 0)
        self.assertEqual(self.pages(ticket).count(), 1)
        entry = self.timeline(ticket, TimelineKind.NOTIFICATION).filter(data__event='oncall.acknowledged').get()
        self.assertIn('acknowledged by', entry.message)

    def test_a_record_resolved_before_the_escalation_wakes_nobody_more(self):
        ticket = self.open_p1()
        page = self.pages(ticket).get()
        ticket_services.ticket_accept(ticket=ticket, actor=Actor(user=self.people[0]))
        ticket_services.ticket_complete(
            ticket=ticket,
            actor=Actor(user=self.people[0]),
            resolution_code='solved_permanently',
            resolution_notes='Restarted the array controller.',
        )
        self.assertEqual(services.escalate_due(now=page.sent_at + dt.timedelta(hours=1)), 0)
        self.assertEqual(self.pages(ticket).get().state, PageState.STOPPED)

    def test_a_major_incident_declared_from_an_incident_pages_that_group(self):
        from major_incidents import services as majors

        with self.captureOnCommitCallbacks(execute=True):
            ticket = make_ticket(state='assigned', group=self.group, agent=self.people[0])
            major = majors.major_declare(
                actor=Actor(user=make_user(Role.INCIDENT_MANAGER)),
                short_description='Storage array down for the whole site',
                source_incident=ticket,
            )
        page = Page.objects.get(record_number=major.number)
        self.assertEqual(
            (page.reason, page.recipient_id, page.group), ('Major incident declared', self.on_call, self.group)
        )
        self.assertTrue(self.timeline(major, TimelineKind.NOTIFICATION).filter(message__startswith='Paged').exists())

    def test_an_override_is_paged_instead_of_the_rotation(self):
        from .factories import make_override

        stand_in = make_user(Role.L2_ENGINEER)
        now = timezone.now()
        make_override(
            schedule=self.schedule, person=stand_in, start=now - dt.timedelta(hours=1), end=now + dt.timedelta(hours=1)
        )
        ticket = self.open_p1()
        self.assertEqual(self.pages(ticket).get().recipient, stand_in)


class AcknowledgeLinkTests(ItsmTestCase):
    def setUp(self):
        self.group, self.people, self.schedule, _ = make_oncall_group()
        with self.captureOnCommitCallbacks(execute=True):
            self.ticket = make_ticket(state='assigned', group=self.group, agent=self.people[0], **p1_fields())
        self.page = Page.objects.get(record_number=self.ticket.number)
        self.url = reverse('oncall:acknowledge', args=[services.ack_token(self.page)])

    def test_the_link_needs_no_login_and_works_once(self):
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Acknowledge: I am on it')
        self.assertEqual(Page.objects.get(pk=self.page.pk).state, PageState.OPEN)  # a GET changes nothing
        response = self.client.post(self.url)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Acknowledged')
        page = Page.objects.get(pk=self.page.pk)
        self.assertEqual(
            (page.state, page.acknowledged_by, page.acknowledged_via), ('acknowledged', page.recipient, 'link')
        )
        again = self.client.post(self.url)
        self.assertHttpStatus(again, 409)
        name = page.recipient.get_full_name()
        self.assertContains(again, f'Already acknowledged by {name} at', status_code=409)
        self.assertContains(self.client.get(self.url), 'Already acknowledged by')
        self.assertEqual(self.timeline(self.ticket).filter(data__event='oncall.acknowledged').count(), 1)

    def test_forged_and_altered_links_are_refused_clearly(self):
        forged = signing.TimestampSigner(salt='elsewhere').sign_object({'p': self.page.pk, 'r': self.page.recipient_id})
        altered = self.url.rstrip('/')[:-3] + 'abc/'
        other = signing.TimestampSigner(salt=services.ACK_SALT).sign_object({'p': self.page.pk, 'r': 999999})
        for url in (
            reverse('oncall:acknowledge', args=[forged]),
            altered,
            reverse('oncall:acknowledge', args=[other]),
            reverse('oncall:acknowledge', args=['not-a-token']),
        ):
            with self.subTest(url=url):
                response = self.client.post(url)
                self.assertHttpStatus(response, 400)
                self.assertContains(response, 'This link is not valid', status_code=400)
        self.assertEqual(Page.objects.get(pk=self.page.pk).state, PageState.OPEN)

    @override_settings(ONCALL_ACK_LINK_HOURS=1)
    def test_an_expired_link_is_refused(self):
        later = timezone.now() + dt.timedelta(hours=2)
        with mock.patch('django.core.signing.time.time', return_value=later.timestamp()):
            response = self.client.post(self.url)
        self.assertHttpStatus(response, 410)
        self.assertContains(response, 'This link has expired', status_code=410)
        self.assertEqual(Page.objects.get(pk=self.page.pk).state, PageState.OPEN)

    def test_the_ui_and_api_acknowledge_for_the_paged_person_only(self):
        stranger = make_user(Role.L2_ENGINEER)
        response = self.api_client(stranger).post(reverse('api:oncallpage-acknowledge', args=[self.page.pk]))
        self.assertHttpStatus(response, 403)
        response = self.api_client(self.page.recipient).post(reverse('api:oncallpage-acknowledge', args=[self.page.pk]))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], 'acknowledged')
        response = self.api_client(self.group.manager).post(reverse('api:oncallpage-acknowledge', args=[self.page.pk]))
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'already_acknowledged')

    def test_the_page_view_acknowledges(self):
        self.client.force_login(self.page.recipient)
        self.assertContains(self.client.get(reverse('oncall:page_detail', args=[self.page.pk])), 'Acknowledge')
        response = self.client.post(reverse('oncall:page_acknowledge', args=[self.page.pk]))
        self.assertHttpStatus(response, 302)
        self.assertEqual(Page.objects.get(pk=self.page.pk).state, PageState.ACKNOWLEDGED)
        self.assertTrue(TimelineEntry.objects.filter(data__event='oncall.acknowledged').exists())
