"""The Atom feed of public updates."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from django.conf import settings
from django.urls import reverse

from itsm.audit import Actor
from major_incidents import services
from major_incidents.choices import MajorIncidentState, UpdateAudience
from tests.base import ItsmTestCase
from tests.major_incidents.factories import UpdateFactory

from .factories import make_major, make_public_service, post_public

ATOM = '{http://www.w3.org/2005/Atom}'


class FeedTests(ItsmTestCase):
    def read(self):
        response = self.client.get(reverse('statuspage:feed'))
        self.assertHttpStatus(response, 200)
        self.assertTrue(response['Content-Type'].startswith('application/atom+xml'))
        self.assertEqual(response['Cache-Control'], 'max-age=30')
        return ET.fromstring(response.content)

    def test_public_updates_newest_first_linking_the_incident_page(self):
        major = make_major(services=[make_public_service()], public_title='Library Wi-Fi down')
        post_public(major, body='Investigating the access points.')
        post_public(major, body='Access points restarted <b>now</b>.', status='monitoring')
        UpdateFactory(major_incident=major, audience=UpdateAudience.INTERNAL, body='Internal: vendor ticket 42.')
        UpdateFactory(major_incident=major, audience=UpdateAudience.RECIPIENTS, body='To owners only.')
        root = self.read()
        self.assertEqual(root.tag, f'{ATOM}feed')
        entries = root.findall(f'{ATOM}entry')
        self.assertEqual(len(entries), 2)
        summaries = [e.find(f'{ATOM}summary').text for e in entries]
        self.assertEqual(
            summaries, ['Access points restarted &lt;b&gt;now&lt;/b&gt;.', 'Investigating the access points.']
        )
        self.assertEqual(entries[0].find(f'{ATOM}title').text, 'Library Wi-Fi down: Monitoring')
        link = entries[0].find(f'{ATOM}link').get('href')
        self.assertTrue(link.endswith(reverse('statuspage:incident', args=[major.number])))
        ids = {e.find(f'{ATOM}id').text for e in entries}
        self.assertEqual(len(ids), 2, 'each update is an entry of its own')
        self.assertNotIn(b'vendor ticket 42', ET.tostring(root))
        self.assertNotIn(b'To owners only', ET.tostring(root))

    def test_cancelled_major_incidents_leave_the_feed(self):
        major = make_major(services=[make_public_service()])
        post_public(major, body='False alarm coming.')
        services.major_cancel(major=major, actor=Actor.system(), reason='One user only.')
        self.assertEqual(major.__class__.objects.get(pk=major.pk).state, MajorIncidentState.CANCELLED)
        self.assertEqual(self.read().findall(f'{ATOM}entry'), [])

    def test_an_empty_feed_still_parses(self):
        root = self.read()
        self.assertEqual(root.find(f'{ATOM}title').text, settings.STATUS_PAGE_TITLE)
