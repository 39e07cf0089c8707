"""`/api/v1/oncall-*` and `escalation-policies/`: generic CRUD through the base classes, group managers kept to
their own groups, engineers adding overrides for themselves only, pages read-only, and who is on call now."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.urls import reverse

from itsm.audit import Actor
from itsm.choices import Role
from oncall import services
from oncall.models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer
from tests.base import APITestCases, ItsmTestCase
from tests.factories import make_ticket, make_user

from .factories import make_group, make_layer, make_oncall_group, make_override, make_policy, make_schedule


class OnCallScheduleAPITests(APITestCases.ModelAPITestCase):
    model = OnCallSchedule
    basename = 'oncallschedule'
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {'name': 'Nights', 'time_zone': 'America/New_York'}
    read_only_fields = {'feed_key': 'mine'}

    def make_object(self, **kwargs):
        return make_schedule(**kwargs)

    def create_data(self):
        return {'group': make_group()[0].pk, 'name': 'Primary', 'time_zone': 'Europe/London'}

    def filter_cases(self):
        first, second = make_schedule(name='Alpha'), make_schedule(name='Beta')
        return [({'q': 'alph'}, [first]), ({'group': str(second.group_id)}, [second])]

    def test_bad_time_zone_is_refused_naming_the_field(self):
        data = {**self.create_data(), 'time_zone': 'Mars/Olympus'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('time_zone', response.data)
        self.assertFalse(OnCallSchedule.objects.exists())

    def test_a_group_manager_manages_only_their_own_groups(self):
        manager = make_user(Role.MANAGER)
        mine, _ = make_group(manager=manager)
        theirs, _ = make_group()
        client = self.api_client(manager)
        self.assertHttpStatus(client.post(self.list_url(), {'group': mine.pk, 'name': 'Mine'}, format='json'), 201)
        response = client.post(self.list_url(), {'group': theirs.pk, 'name': 'Theirs'}, format='json')
        self.assertHttpStatus(response, 403)
        self.assertFalse(OnCallSchedule.objects.filter(group=theirs).exists())

    def test_a_schedule_without_a_group_is_refused_naming_the_field(self):
        manager = make_user(Role.MANAGER)
        make_group(manager=manager)
        response = self.api_client(manager).post(self.list_url(), {'name': 'Nobody'}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('group', response.data)
        self.assertFalse(OnCallSchedule.objects.exists())
        # The service says the same to any caller, before asking whose group it is.
        for create in (services.schedule_create, services.policy_create):
            with self.subTest(create=create.__name__), self.assertRaises(ValidationError) as refused:
                create(actor=Actor(user=manager), name='Nobody')
            self.assertEqual(refused.exception.message_dict, {'group': ['Choose a support group.']})

    def test_rotating_the_feed_makes_the_old_address_stop(self):
        schedule = make_schedule()
        client = self.api_client(self.writer())
        old = client.get(self.detail_url(schedule)).data['feed_url']
        self.assertHttpStatus(self.client.get(old), 200)
        response = client.post(reverse('api:oncallschedule-rotate-feed', args=[schedule.pk]))
        self.assertHttpStatus(response, 200)
        self.assertNotEqual(response.data['feed_url'], old)
        self.assertHttpStatus(self.client.get(old), 404)
        self.assertHttpStatus(self.client.get(response.data['feed_url']), 200)


class RotationLayerAPITests(APITestCases.ModelAPITestCase):
    model = RotationLayer
    basename = 'rotationlayer'
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)

    @property
    def update_data(self):
        return {
            'name': 'Business hours',
            'restrict_days': [0, 1, 2, 3, 4],
            'restrict_from': '09:00:00',
            'restrict_to': '17:00:00',
        }

    def make_object(self, **kwargs):
        return make_layer(**kwargs)

    def create_data(self):
        schedule = make_schedule()
        people = [make_user(Role.L2_ENGINEER).pk for _ in range(2)]
        return {
            'schedule': schedule.pk,
            'name': 'Weekly',
            'position': 1,
            'members': people,
            'handoff': 'weekly',
            'handoff_time': '09:00:00',
            'handoff_weekday': 0,
            'rotation_start': '2026-11-02',
        }

    def test_unknown_members_and_half_open_hours_are_refused(self):
        data = {**self.create_data(), 'members': [999999], 'restrict_from': '09:00'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('members', response.data)
        self.assertIn('restrict_to', response.data)
        self.assertFalse(RotationLayer.objects.exists())


class OnCallOverrideAPITests(APITestCases.ModelAPITestCase):
    model = OnCallOverride
    basename = 'oncalloverride'
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    denied_roles = (Role.REQUESTER,)
    update_data = {'note': 'Swapped with Sam'}

    def make_object(self, **kwargs):
        return make_override(**kwargs)

    def create_data(self):
        return {
            'schedule': make_schedule().pk,
            'person': make_user(Role.L2_ENGINEER).pk,
            'start': '2026-12-24T18:00:00Z',
            'end': '2026-12-25T06:00:00Z',
            'note': 'Christmas Eve',
        }

    def test_an_engineer_overrides_for_themselves_only(self):
        engineer = make_user(Role.L2_ENGINEER)
        client = self.api_client(engineer)
        data = {**self.create_data(), 'person': make_user(Role.L2_ENGINEER).pk}
        self.assertHttpStatus(client.post(self.list_url(), data, format='json'), 403)
        data.pop('person')
        response = client.post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['person'], engineer.pk)

    def test_an_override_must_end_after_it_starts(self):
        data = {**self.create_data(), 'end': '2026-12-24T17:00:00Z'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('end', response.data)


class EscalationPolicyAPITests(APITestCases.ModelAPITestCase):
    model = EscalationPolicy
    basename = 'escalationpolicy'
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {
        'name': 'Nights and weekends',
        'levels': [{'notify': 'schedule', 'minutes': 5}, {'notify': 'manager'}],
    }

    def make_object(self, **kwargs):
        return make_policy(**kwargs)

    def create_data(self):
        return {
            'group': make_group()[0].pk,
            'name': 'Default',
            'levels': [{'notify': 'schedule', 'minutes': 15}, {'notify': 'manager'}],
        }

    def test_malformed_levels_are_refused_naming_the_level(self):
        data = {**self.create_data(), 'levels': [{'notify': 'schedule'}, {'notify': 'pigeon'}]}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('Level 1', str(response.data['levels']))
        self.assertFalse(EscalationPolicy.objects.exists())


class PageAndNowAPITests(ItsmTestCase):
    def test_pages_are_read_only_and_filterable(self):
        group, people, schedule, _ = make_oncall_group()
        with self.captureOnCommitCallbacks(execute=True):
            ticket = make_ticket(state='assigned', group=group, agent=people[0], impact='severe', urgency='critical')
        page = Page.objects.get()
        client = self.api_client(make_user(Role.L2_ENGINEER))
        response = client.get(reverse('api:oncallpage-list'), {'record': ticket.number})
        self.assertHttpStatus(response, 200)
        self.assertEqual([row['id'] for row in response.data['results']], [page.pk])
        self.assertEqual(response.data['results'][0]['record_kind'], 'ticket')
        self.assertHttpStatus(client.delete(reverse('api:oncallpage-detail', args=[page.pk])), 405)
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(reverse('api:oncallpage-list')), 403)
        count = self.count_queries(lambda: client.get(reverse('api:oncallpage-list')))
        for _ in range(3):
            with self.captureOnCommitCallbacks(execute=True):
                make_ticket(state='assigned', group=group, agent=people[0], impact='severe', urgency='critical')
        self.assertEqual(self.count_queries(lambda: client.get(reverse('api:oncallpage-list'))), count)

    def test_now_and_next(self):
        group, people, schedule, _ = make_oncall_group()
        make_oncall_group()
        client = self.api_client(make_user(Role.SERVICE_DESK_AGENT))
        response = client.get(reverse('api:oncall-now'), {'group': group.pk, 'shifts': '1'})
        self.assertHttpStatus(response, 200)
        [row] = response.data
        self.assertEqual(row['schedule'], schedule.pk)
        self.assertIn(row['now']['person'], {p.username for p in people})
        self.assertNotEqual(row['next']['person'], row['now']['person'])
        self.assertEqual(row['now']['end'], row['next']['start'])
        shifts = row['shifts']
        self.assertGreaterEqual(len(shifts), 2)
        self.assertTrue(all(a['end'] == b['start'] for a, b in zip(shifts, shifts[1:], strict=False)))
        self.assertEqual(shifts[-1]['end'] - shifts[0]['start'], dt.timedelta(days=14))
        self.assertHttpStatus(client.get(reverse('api:oncall-now'), {'group': 'x'}), 400)
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(reverse('api:oncall-now')), 403)
        small = self.count_queries(lambda: client.get(reverse('api:oncall-now')))
        make_oncall_group()
        self.assertEqual(self.count_queries(lambda: client.get(reverse('api:oncall-now'))), small)
