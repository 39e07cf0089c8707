"""`POST /api/v1/integrations/alertmanager/`: Alertmanager's webhook (version 4) mapped alert by alert."""

import copy

from incidents.choices import TicketState
from incidents.models import Ticket
from monitoring.choices import AlertStatus, DedupBy, SourceKind
from monitoring.models import Alert
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent

from .factories import make_source

URL = '/api/v1/integrations/alertmanager/'

ALERT = {
    'status': 'firing',
    'labels': {'alertname': 'HighCPU', 'instance': 'db1:9100', 'job': 'node', 'severity': 'critical'},
    'annotations': {'summary': 'CPU above 95 % on db1', 'description': 'For 10 minutes now.'},
    'startsAt': '2026-12-06T01:00:00.123456789Z',
    'endsAt': '0001-01-01T00:00:00Z',
    'generatorURL': 'http://prometheus:9090/graph?g0.expr=cpu',
    'fingerprint': 'c2f5e5a1b0e9d7a1',
}


def notification(alerts=None, status='firing', group_key='{}:{alertname="HighCPU"}'):
    """A webhook body as Alertmanager sends it; `alerts` entries update a copy of ALERT."""
    alerts = [{**copy.deepcopy(ALERT), **a} for a in (alerts or [{}])]
    return {
        'version': '4',
        'groupKey': group_key,
        'truncatedAlerts': 0,
        'status': status,
        'receiver': 'pitcrew',
        'groupLabels': {'alertname': 'HighCPU'},
        'commonLabels': {'alertname': 'HighCPU', 'job': 'node'},
        'commonAnnotations': {},
        'externalURL': 'http://alertmanager:9093',
        'alerts': alerts,
    }


class AlertmanagerTests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent(name='Server and Storage')
        self.source = make_source(kind=SourceKind.ALERTMANAGER, name='Prometheus', support_group=self.group)

    def post(self, body, source=None):
        source = source or self.source
        headers = {'Authorization': f'Bearer {source.token}'}
        response = self.api_client().post(URL, body, format='json', headers=headers)
        self.assertHttpStatus(response, 202)
        return response

    def test_a_firing_alert_opens_an_incident_with_its_labels_and_links(self):
        db1 = make_ci(name='db1')
        response = self.post(notification())
        self.assertEqual(response.data['status'], 'success')
        [outcome] = response.data['alerts']
        self.assertEqual((outcome['action'], outcome['dedup_key']), ('opened', 'c2f5e5a1b0e9d7a1'))
        ticket = Ticket.objects.get(number=outcome['incident'])
        self.assertEqual(ticket.short_description, 'CPU above 95 % on db1')
        self.assertEqual(ticket.priority, 1)
        self.assertEqual(ticket.ci, db1, 'the instance label without its port names the CI')
        self.assertIn('For 10 minutes now.', ticket.description)
        self.assertIn('http://prometheus:9090/graph?g0.expr=cpu', ticket.description)
        alert = Alert.objects.get()
        self.assertEqual(alert.details['alertname'], 'HighCPU')
        self.assertEqual(alert.severity, 'critical')

    def test_each_alert_of_a_group_is_its_own_incident_by_fingerprint(self):
        body = notification(
            alerts=[
                {'fingerprint': 'aaa', 'labels': {'alertname': 'HighCPU', 'instance': 'db1:9100'}},
                {'fingerprint': 'bbb', 'labels': {'alertname': 'HighCPU', 'instance': 'db2:9100'}},
            ]
        )
        response = self.post(body)
        self.assertEqual([o['action'] for o in response.data['alerts']], ['opened', 'opened'])
        self.assertEqual(Ticket.objects.count(), 2)
        # The next notification of the group repeats both, then one recovers alone.
        self.post(body)
        self.assertEqual(sorted(Alert.objects.values_list('event_count', flat=True)), [2, 2])
        resolved = notification(alerts=[{'fingerprint': 'aaa', 'status': 'resolved'}, {'fingerprint': 'bbb'}])
        response = self.post(resolved)
        self.assertEqual([o['action'] for o in response.data['alerts']], ['resolved', 'repeated'])
        self.assertEqual(Alert.objects.get(dedup_key='aaa').status, AlertStatus.RESOLVED)
        self.assertEqual(Alert.objects.get(dedup_key='bbb').status, AlertStatus.TRIGGERED)
        self.assertEqual(Alert.objects.get(dedup_key='aaa').incident.state, TicketState.COMPLETED)

    def test_without_a_summary_the_alert_name_and_instance_describe_it(self):
        response = self.post(notification(alerts=[{'annotations': {}}]))
        ticket = Ticket.objects.get(number=response.data['alerts'][0]['incident'])
        self.assertEqual(ticket.short_description, 'HighCPU on db1:9100')

    def test_an_unknown_severity_label_reads_as_warning(self):
        labels = {'alertname': 'Odd', 'severity': 'page-everyone'}
        response = self.post(notification(alerts=[{'labels': labels}]))
        self.assertEqual(Ticket.objects.get(number=response.data['alerts'][0]['incident']).priority, 3)

    def test_a_source_may_key_by_group(self):
        self.source.dedup_by = DedupBy.GROUP_KEY
        self.source.save()
        body = notification(alerts=[{'fingerprint': 'aaa'}, {'fingerprint': 'bbb'}])
        response = self.post(body)
        self.assertEqual(len(response.data['alerts']), 1)
        self.assertEqual(Ticket.objects.count(), 1)
        alert = Alert.objects.get()
        self.assertEqual(alert.dedup_key, '{}:{alertname="HighCPU"}')
        # One alert of the group recovering leaves the group firing; the group resolved completes it.
        self.post(notification(alerts=[{'fingerprint': 'aaa', 'status': 'resolved'}, {'fingerprint': 'bbb'}]))
        self.assertEqual(Alert.objects.get().status, AlertStatus.TRIGGERED)
        resolved = notification(alerts=[{'status': 'resolved'}], status='resolved')
        self.post(resolved)
        self.assertEqual(Alert.objects.get().status, AlertStatus.RESOLVED)
        self.assertEqual(Ticket.objects.get().state, TicketState.COMPLETED)

    def test_a_group_key_longer_than_a_key_is_keyed_by_its_hash(self):
        self.source.dedup_by = DedupBy.GROUP_KEY
        self.source.save()
        long_key = '{}/{severity="critical"}:{' + ', '.join(f'label{i}="value{i}"' for i in range(40)) + '}'
        self.post(notification(group_key=long_key))
        self.post(notification(group_key=long_key))
        alert = Alert.objects.get()
        self.assertTrue(alert.dedup_key.startswith('sha256:'))
        self.assertEqual(alert.event_count, 2)
