"""Refusals of the two inbound endpoints: a missing or wrong token is a 401, a disabled source a 403, and a malformed
body a 400 naming the field and why, with nothing written."""

from incidents.models import Ticket
from itsm.models import TimelineEntry
from monitoring.choices import SourceKind
from monitoring.models import Alert
from tests.base import ItsmTestCase

from .factories import event, make_source
from .test_alertmanager import URL as AM_URL
from .test_alertmanager import notification

EVENTS_URL = '/api/v1/events/'


class NothingWrittenMixin:
    def snapshot(self):
        return (Alert.objects.count(), Ticket.objects.count(), TimelineEntry.objects.count())


class EventsRefusalTests(NothingWrittenMixin, ItsmTestCase):
    def setUp(self):
        self.source = make_source(name='Checks')

    def post(self, body, **kwargs):
        before = self.snapshot()
        kwargs.setdefault('format', None if 'content_type' in kwargs else 'json')
        response = self.api_client().post(EVENTS_URL, body, **kwargs)
        self.assertEqual(self.snapshot(), before, 'a refused event must write nothing')
        return response

    def test_missing_and_unknown_routing_keys_are_401(self):
        body = event(self.source)
        del body['routing_key']
        response = self.post(body)
        self.assertHttpStatus(response, 401)
        self.assertIn('routing_key', response.data['detail'])
        response = self.post({**event(self.source), 'routing_key': 'not-a-token'})
        self.assertHttpStatus(response, 401)
        self.assertEqual(response.data['code'], 'not_authenticated')

    def test_a_token_of_another_kind_of_source_is_refused(self):
        alertmanager = make_source(kind=SourceKind.ALERTMANAGER, name='AM')
        self.assertHttpStatus(self.post({**event(self.source), 'routing_key': alertmanager.token}), 401)

    def test_a_disabled_source_is_403(self):
        self.source.active = False
        self.source.save()
        response = self.post(event(self.source))
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.data['code'], 'source_disabled')

    def test_malformed_json_and_non_objects_are_400(self):
        response = self.post('{"routing_key": ', content_type='application/json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.data['code'], 'parse_error')
        response = self.post([1, 2], format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('JSON object', response.data['detail'])

    def test_each_bad_field_is_named_with_the_reason(self):
        cases = [
            ({'event_action': 'explode'}, ['event_action'], 'not a valid choice'),
            ({'payload': {'severity': 'apocalyptic'}}, ['payload', 'severity'], 'not a valid choice'),
            ({'payload': {'summary': ''}}, ['payload', 'summary'], 'may not be blank'),
            ({'payload': {'summary': 'x' * 1025}}, ['payload', 'summary'], '1024'),
        ]
        for change, path, why in cases:
            with self.subTest(change=change):
                body = event(self.source, **{k: v for k, v in change.items() if k != 'payload'})
                body['payload'].update(change.get('payload', {}))
                response = self.post(body)
                self.assertHttpStatus(response, 400)
                node = response.data
                for key in path:
                    node = node[key]
                self.assertIn(why, str(node[0]))

    def test_a_trigger_without_payload_and_an_acknowledge_without_key_are_400(self):
        body = event(self.source)
        del body['payload']
        response = self.post(body)
        self.assertHttpStatus(response, 400)
        self.assertIn('needs a payload', str(response.data['payload'][0]))
        response = self.post(event(self.source, 'acknowledge'))
        self.assertHttpStatus(response, 400)
        self.assertIn('dedup_key', str(response.data['dedup_key'][0]))
        body = event(self.source)
        del body['payload']['source']
        response = self.post(body)
        self.assertHttpStatus(response, 400)
        self.assertIn('required', str(response.data['payload']['source'][0]))


class AlertmanagerRefusalTests(NothingWrittenMixin, ItsmTestCase):
    def setUp(self):
        self.source = make_source(kind=SourceKind.ALERTMANAGER, name='Prometheus')

    def post(self, body, token=None, **kwargs):
        before = self.snapshot()
        headers = {'Authorization': f'Bearer {self.source.token if token is None else token}'} if token != '' else {}
        kwargs.setdefault('format', None if 'content_type' in kwargs else 'json')
        response = self.api_client().post(AM_URL, body, headers=headers, **kwargs)
        self.assertEqual(self.snapshot(), before, 'a refused notification must write nothing')
        return response

    def test_missing_and_wrong_tokens_are_401(self):
        response = self.post(notification(), token='')
        self.assertHttpStatus(response, 401)
        self.assertIn('Authorization: Bearer', response.data['detail'])
        self.assertEqual(response['WWW-Authenticate'], 'Bearer realm="monitoring"')
        self.assertHttpStatus(self.post(notification(), token='wrong'), 401)
        events_source = make_source(name='Events')
        self.assertHttpStatus(self.post(notification(), token=events_source.token), 401)

    def test_malformed_json_is_400(self):
        response = self.post('{"version": "4", ', content_type='application/json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.data['code'], 'parse_error')

    def test_a_bad_alert_anywhere_refuses_the_whole_notification(self):
        body = notification(alerts=[{}, {'status': 'firing', 'labels': {'alertname': 'B'}}])
        del body['alerts'][1]['fingerprint']
        response = self.post(body)
        self.assertHttpStatus(response, 400)
        # What the client reads: the position of the bad alert, the field and why; the good one is not named.
        self.assertEqual(response.json()['alerts'], {'1': {'fingerprint': ['This field is required.']}})

    def test_each_bad_field_is_named_with_the_reason(self):
        cases = [
            ({'version': '3'}, ['version'], 'Only version "4"'),
            ({'status': 'sleeping'}, ['status'], 'not a valid choice'),
            ({'alerts': []}, ['alerts', 'non_field_errors'], 'may not be empty'),
            ({'alerts': 'lots'}, ['alerts', 'non_field_errors'], 'Expected a list'),
            ({'groupKey': None}, ['groupKey'], 'may not be null'),
        ]
        for change, path, why in cases:
            with self.subTest(change=change):
                response = self.post({**notification(), **change})
                self.assertHttpStatus(response, 400)
                node = response.data
                for key in path:
                    node = node[key]
                self.assertIn(why, str(node if isinstance(node, str) else node[0]))

    def test_bad_values_inside_an_alert_are_named(self):
        body = notification()
        body['alerts'][0]['startsAt'] = 'yesterday'
        body['alerts'][0]['labels'] = ['not', 'a', 'map']
        response = self.post(body)
        self.assertHttpStatus(response, 400)
        self.assertIn('Datetime has wrong format', str(response.data['alerts'][0]['startsAt'][0]))
        self.assertIn('Expected a dictionary', str(response.data['alerts'][0]['labels'][0]))
