"""`POST /api/v1/events/`: PagerDuty-shaped events (trigger, acknowledge, resolve) into incidents."""

import datetime as dt

from django.test import override_settings
from django.utils import timezone

from incidents.choices import TicketChannel, TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Channel, Impact, Role, TimelineKind, Urgency
from itsm.models import TimelineEntry
from monitoring.choices import AlertStatus
from monitoring.models import Alert
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user

from .factories import event, make_source

URL = '/api/v1/events/'


class EventsTestCase(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent(name='Server and Storage')
        self.source = make_source(name='Checks', support_group=self.group)

    def post(self, body, **kwargs):
        return self.api_client().post(URL, body, format='json', **kwargs)

    def trigger(self, key='disk-db1', **fields):
        response = self.post(event(self.source, dedup_key=key, **fields))
        self.assertHttpStatus(response, 202)
        return response

    def send(self, action, key='disk-db1'):
        response = self.post(event(self.source, action, dedup_key=key))
        self.assertHttpStatus(response, 202)
        return response


class TriggerTests(EventsTestCase):
    def test_a_trigger_opens_an_incident_for_the_source_group_with_the_mapped_priority(self):
        response = self.trigger(payload={'severity': 'critical', 'custom_details': {'disk': '/var', 'free': '2 %'}})
        self.assertEqual(response.data['status'], 'success')
        self.assertEqual(response.data['message'], 'Event processed')
        self.assertEqual(response.data['dedup_key'], 'disk-db1')
        ticket = Ticket.objects.get(number=response.data['incident'])
        self.assertEqual(ticket.channel, TicketChannel.MONITORING)
        self.assertEqual(ticket.caller, self.source.integration_user)
        self.assertTrue(ticket.caller.has_role(Role.INTEGRATION))
        self.assertEqual((ticket.impact, ticket.urgency, ticket.priority), (Impact.HIGH, Urgency.CRITICAL, 1))
        self.assertEqual(ticket.state, TicketState.ASSIGNED)
        self.assertEqual(ticket.assignment_group, self.group)
        self.assertEqual(ticket.short_description, 'CPU above 95 % on web-01')
        self.assertIn('disk: /var', ticket.description)
        created = self.timeline(ticket, TimelineKind.CREATED).get()
        self.assertEqual(created.channel, Channel.MONITORING)
        alert = Alert.objects.get(dedup_key='disk-db1')
        self.assertEqual((alert.status, alert.event_count, alert.incident), (AlertStatus.TRIGGERED, 1, ticket))
        self.assertEqual(alert.details['disk'], '/var')

    def test_severities_map_to_priorities(self):
        for severity, priority in (('critical', 1), ('error', 2), ('warning', 3), ('info', 4)):
            with self.subTest(severity=severity):
                response = self.trigger(key=f'k-{severity}', payload={'severity': severity})
                self.assertEqual(Ticket.objects.get(number=response.data['incident']).priority, priority)

    def test_the_source_severity_map_is_used(self):
        self.source.severity_map = {'warning': {'impact': 'severe', 'urgency': 'immediate'}}
        self.source.save()
        response = self.trigger(payload={'severity': 'warning'})
        self.assertEqual(Ticket.objects.get(number=response.data['incident']).priority, 0)

    def test_repeats_are_counted_on_the_open_alert_without_a_new_incident_or_noise(self):
        first = self.trigger()
        ticket = Ticket.objects.get(number=first.data['incident'])
        entries = self.timeline(ticket).count()
        for _ in range(3):
            again = self.trigger(payload={'summary': 'CPU above 99 % on web-01'})
            self.assertEqual(again.data['action'], 'repeated')
            self.assertEqual(again.data['incident'], ticket.number)
        self.assertEqual(Ticket.objects.count(), 1)
        alert = Alert.objects.get()
        self.assertEqual(alert.event_count, 4)
        self.assertEqual(alert.summary, 'CPU above 99 % on web-01')
        self.assertEqual(self.timeline(ticket).count(), entries, 'repeats add nothing to the timeline')

    def test_a_trigger_without_dedup_key_gets_one_back(self):
        body = event(self.source)
        response = self.post(body)
        self.assertHttpStatus(response, 202)
        key = response.data['dedup_key']
        self.assertTrue(key)
        self.assertTrue(Alert.objects.filter(dedup_key=key).exists())

    def test_the_ci_is_matched_by_component_then_source_case_insensitively(self):
        db = make_ci(name='DB-Orders-01')
        web = make_ci(name='web-01')
        response = self.trigger(key='a', payload={'component': 'db-orders-01', 'source': 'web-01'})
        self.assertEqual(Ticket.objects.get(number=response.data['incident']).ci, db)
        response = self.trigger(key='b', payload={'component': 'nothing-known', 'source': 'WEB-01'})
        self.assertEqual(Ticket.objects.get(number=response.data['incident']).ci, web)
        response = self.trigger(key='c', payload={'component': '', 'source': 'unknown-host'})
        self.assertIsNone(Ticket.objects.get(number=response.data['incident']).ci)

    def test_without_a_group_the_desk_routing_applies(self):
        source = make_source(name='Ungrouped')
        response = self.post(event(source, dedup_key='x'))
        self.assertHttpStatus(response, 202)
        ticket = Ticket.objects.get(number=response.data['incident'])
        self.assertEqual(ticket.state, TicketState.NEW)
        self.assertIsNone(ticket.assignment_group)


class AcknowledgeTests(EventsTestCase):
    def test_acknowledge_marks_the_alert_and_notes_the_incident(self):
        number = self.trigger().data['incident']
        response = self.send('acknowledge')
        self.assertEqual(response.data['action'], 'acknowledged')
        alert = Alert.objects.get()
        self.assertEqual(alert.status, AlertStatus.ACKNOWLEDGED)
        self.assertIsNotNone(alert.acknowledged_at)
        ticket = Ticket.objects.get(number=number)
        self.assertEqual(ticket.state, TicketState.ASSIGNED)
        note = self.timeline(ticket, TimelineKind.WORK_NOTE).get()
        self.assertIn('acknowledged', note.message)
        self.assertEqual(note.channel, Channel.MONITORING)
        self.send('acknowledge')  # again: nothing more
        self.assertEqual(self.timeline(ticket, TimelineKind.WORK_NOTE).count(), 1)

    def test_acknowledge_assigns_a_new_incident_to_the_source_group(self):
        ticket = Ticket.objects.get(number=self.trigger().data['incident'])
        Ticket.objects.filter(pk=ticket.pk).update(state=TicketState.NEW, assignment_group=None)
        self.send('acknowledge')
        ticket.refresh_from_db()
        self.assertEqual((ticket.state, ticket.assignment_group), (TicketState.ASSIGNED, self.group))

    def test_acknowledge_accepts_an_incident_assigned_to_a_person_for_that_person(self):
        ticket = Ticket.objects.get(number=self.trigger().data['incident'])
        Ticket.objects.filter(pk=ticket.pk).update(assignee=self.agent)
        self.send('acknowledge')
        ticket.refresh_from_db()
        self.assertEqual((ticket.state, ticket.assignee), (TicketState.ACCEPTED, self.agent))
        accepted = self.timeline(ticket, TimelineKind.TRANSITION).order_by('at', 'pk').last()
        self.assertEqual((accepted.actor, accepted.channel), (self.agent, Channel.MONITORING))

    def test_acknowledge_leaves_an_assignee_outside_the_group_to_accept_themselves(self):
        ticket = Ticket.objects.get(number=self.trigger().data['incident'])
        outsider = make_user(Role.L2_ENGINEER)
        Ticket.objects.filter(pk=ticket.pk).update(assignee=outsider)
        self.send('acknowledge')
        ticket.refresh_from_db()
        self.assertEqual(ticket.state, TicketState.ASSIGNED)

    def test_acknowledge_of_an_unknown_key_changes_nothing(self):
        response = self.send('acknowledge', key='never-seen')
        self.assertEqual(response.data['action'], 'ignored')
        self.assertFalse(Alert.objects.exists())


class ResolveTests(EventsTestCase):
    def test_resolve_completes_an_incident_nobody_worked(self):
        number = self.trigger().data['incident']
        response = self.send('resolve')
        self.assertEqual(response.data['action'], 'resolved')
        ticket = Ticket.objects.get(number=number)
        self.assertEqual(ticket.state, TicketState.COMPLETED)
        self.assertEqual(ticket.resolution_code, 'solved_remotely')
        self.assertIn('Monitoring reports resolved', ticket.resolution_notes)
        alert = Alert.objects.get()
        self.assertEqual(alert.status, AlertStatus.RESOLVED)
        self.assertIsNotNone(alert.resolved_at)

    @override_settings(MONITORING_RESOLUTION_CODE='solved_permanently')
    def test_the_resolution_code_is_a_setting(self):
        number = self.trigger().data['incident']
        self.send('resolve')
        self.assertEqual(Ticket.objects.get(number=number).resolution_code, 'solved_permanently')

    def test_resolve_only_notes_an_incident_someone_works(self):
        from incidents import services as incident_services

        number = self.trigger().data['incident']
        ticket = incident_services.ticket_accept(ticket=Ticket.objects.get(number=number), actor=Actor(user=self.agent))
        self.send('resolve')
        ticket.refresh_from_db()
        self.assertEqual(ticket.state, TicketState.ACCEPTED)
        note = self.timeline(ticket, TimelineKind.WORK_NOTE).last()
        self.assertEqual(note.message, 'Monitoring reports resolved (Checks).')
        self.assertEqual(Alert.objects.get().status, AlertStatus.RESOLVED)

    def test_a_note_by_a_person_counts_as_work(self):
        from incidents import services as incident_services

        number = self.trigger().data['incident']
        ticket = Ticket.objects.get(number=number)
        incident_services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body='Looking', internal=True)
        self.send('resolve')
        self.assertEqual(Ticket.objects.get(number=number).state, TicketState.ASSIGNED)

    def test_resolve_of_an_unknown_key_is_ignored(self):
        response = self.send('resolve', key='never-seen')
        self.assertEqual(response.data['action'], 'ignored')


class FlappingTests(EventsTestCase):
    def test_a_trigger_soon_after_resolve_reopens_the_same_incident(self):
        number = self.trigger().data['incident']
        self.send('resolve')
        response = self.trigger()
        self.assertEqual(response.data['action'], 'reopened')
        self.assertEqual(response.data['incident'], number)
        ticket = Ticket.objects.get(number=number)
        self.assertEqual(ticket.state, TicketState.ACCEPTED)
        self.assertEqual(ticket.reopen_count, 1)
        self.assertEqual(Ticket.objects.count(), 1)
        alert = Alert.objects.get()
        self.assertEqual((alert.status, alert.flap_count, alert.event_count), (AlertStatus.TRIGGERED, 1, 2))
        reopen = TimelineEntry.objects.for_object(ticket).filter(data__action='reject').get()
        self.assertIn('flap window', reopen.message)
        # It resolves again (still nobody on it) and flaps again.
        self.send('resolve')
        self.assertEqual(Ticket.objects.get(number=number).state, TicketState.COMPLETED)
        self.trigger()
        self.assertEqual(Ticket.objects.get(number=number).reopen_count, 2)
        self.assertEqual(Alert.objects.get().flap_count, 2)

    def test_a_trigger_after_the_window_opens_a_new_incident(self):
        number = self.trigger().data['incident']
        self.send('resolve')
        Alert.objects.update(resolved_at=timezone.now() - dt.timedelta(minutes=31))
        response = self.trigger()
        self.assertEqual(response.data['action'], 'opened')
        self.assertNotEqual(response.data['incident'], number)
        self.assertEqual(Alert.objects.count(), 2)

    def test_a_trigger_after_the_incident_closed_opens_a_new_incident(self):
        from incidents import services as incident_services

        number = self.trigger().data['incident']
        self.send('resolve')
        incident_services.ticket_confirm(ticket=Ticket.objects.get(number=number), actor=Actor(user=self.agent))
        response = self.trigger()
        self.assertEqual(response.data['action'], 'opened')
        self.assertNotEqual(response.data['incident'], number)
        self.assertEqual(Ticket.objects.get(number=number).state, TicketState.CLOSED)

    def test_a_flap_on_an_incident_still_worked_is_noted(self):
        from incidents import services as incident_services

        number = self.trigger().data['incident']
        incident_services.ticket_accept(ticket=Ticket.objects.get(number=number), actor=Actor(user=self.agent))
        self.send('resolve')
        response = self.trigger()
        self.assertEqual((response.data['action'], response.data['incident']), ('reopened', number))
        ticket = Ticket.objects.get(number=number)
        self.assertEqual(ticket.state, TicketState.ACCEPTED)
        self.assertIn('fired again', self.timeline(ticket, TimelineKind.WORK_NOTE).last().message)
