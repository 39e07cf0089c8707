"""Problem candidates: the recurrence scan on a hand-built history (known clusters, and noise that must not
cluster), idempotence, dismissal and regrowth, acceptance, the Celery task, the pages, the API and who may do what."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from incidents.models import Ticket
from itsm.audit import Actor
from itsm.celery import app
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from problems import candidates
from problems.candidates import scan_candidates, similar_pairs, similarity, trigrams
from problems.choices import CandidateBasis, CandidateStatus
from problems.incident_links import link_incident
from problems.models import ProblemCandidate, ProblemIncident
from problems.tasks import problem_candidate_scan_task
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_ticket

from .factories import ProblemCandidateFactory, make_category, make_problem, make_recurrence

SYSTEM = Actor.system()
NOW = timezone.now()


def opened(tickets, *, days_ago: float):
    """Put `tickets` back in time (the history the scan reads)."""
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(opened_at=NOW - dt.timedelta(days=days_ago))
    return tickets


def ids(tickets) -> set[int]:
    return {t.pk for t in tickets}


class HistoryMixin:
    """Three recurrences in the last 30 days, and incidents that look alike but must not cluster."""

    def build_history(self):
        self.network = make_category('Network')
        self.email = make_category('Email')
        self.vpn = make_ci(name='VPN gateway 1')
        self.mail = make_service(name='Mail')
        # 1. Same CI, same classification: 4 incidents over three days.
        self.ci_cluster = make_recurrence(4, ci=self.vpn, category=self.network, symptom='Tunnel drops')
        for ticket, days in zip(self.ci_cluster, (1, 1, 2, 3), strict=True):
            opened([ticket], days_ago=days)
        # 2. Same service (no CI), same classification.
        self.service_cluster = [
            make_ticket(
                short_description=f'Mail not sent ({n})', service=self.mail.ci, category=self.email, symptom='Bounce'
            )
            for n in range(3)
        ]
        opened(self.service_cluster, days_ago=5)
        # 3. Similar short descriptions, nothing else in common.
        texts = [
            'Outlook crashes when opening the calendar',
            'outlook crashes when opening calendar',
            'Outlook crash when opening the calendar!',
        ]
        self.text_cluster = [make_ticket(short_description=text) for text in texts]
        opened(self.text_cluster, days_ago=2)
        # Noise: too few on the same CI with another classification; older than the window; a case; an incident
        # already recorded with a problem; unrelated texts.
        self.noise = [
            *make_recurrence(2, ci=self.vpn, category=self.email, symptom='Slow'),
            *opened(make_recurrence(1, ci=self.vpn, category=self.network, symptom='Tunnel drops'), days_ago=45),
            make_ticket(kind='case', ci=self.vpn, category=self.network, symptom='Tunnel drops', short_description='x'),
            make_ticket(short_description='Printer on floor 2 jams'),
            make_ticket(short_description='New starter needs a laptop'),
            make_ticket(short_description='Password reset for the payroll system'),
        ]
        self.linked = make_recurrence(1, ci=self.vpn, category=self.network, symptom='Tunnel drops')[0]
        link_incident(problem=make_problem(), incident=self.linked, actor=SYSTEM)


class ScanTests(HistoryMixin, ItsmTestCase):
    def setUp(self):
        self.build_history()

    def test_the_scan_finds_the_known_clusters_and_nothing_else(self):
        result = scan_candidates(now=NOW)
        self.assertEqual(len(result.created), 3)
        found = {c.basis: c for c in ProblemCandidate.objects.all()}
        self.assertEqual(set(found), set(CandidateBasis.values))

        ci = found[CandidateBasis.CI_CLASSIFICATION]
        self.assertEqual(ids(ci.incidents.all()), ids(self.ci_cluster))
        self.assertEqual((ci.ci, ci.category, ci.symptom, ci.size), (self.vpn, self.network, 'Tunnel drops', 4))
        self.assertEqual(ci.title, 'VPN gateway 1: Network › Tunnel drops')
        day = lambda days: timezone.localtime(NOW - dt.timedelta(days=days)).date().isoformat()  # noqa: E731
        self.assertEqual(ci.daily_counts, {day(3): 1, day(2): 1, day(1): 2})
        self.assertEqual(ci.first_seen, NOW - dt.timedelta(days=3))
        self.assertEqual(ci.last_seen, NOW - dt.timedelta(days=1))
        self.assertEqual(ci.status, CandidateStatus.PROPOSED)
        self.assertTrue(self.timeline(ci, TimelineKind.CREATED).exists())

        service = found[CandidateBasis.SERVICE_CLASSIFICATION]
        self.assertEqual(ids(service.incidents.all()), ids(self.service_cluster))
        self.assertEqual(service.service, self.mail.ci)

        text = found[CandidateBasis.SIMILAR_TEXT]
        self.assertEqual(ids(text.incidents.all()), ids(self.text_cluster))
        self.assertIn('calendar', text.title.lower())

        clustered = set().union(*(ids(c.incidents.all()) for c in found.values()))
        self.assertFalse(clustered & ids(self.noise), 'noise must not cluster')
        self.assertNotIn(self.linked.pk, clustered, 'an incident a problem holds is no candidate')

    def test_a_second_scan_changes_nothing(self):
        scan_candidates(now=NOW)
        before = {c.key: (ids(c.incidents.all()), c.size, c.daily_counts) for c in ProblemCandidate.objects.all()}
        entries = self.timeline_count()
        result = scan_candidates(now=NOW)
        self.assertEqual(result.created, [])
        after = {c.key: (ids(c.incidents.all()), c.size, c.daily_counts) for c in ProblemCandidate.objects.all()}
        self.assertEqual(after, before)
        self.assertEqual(self.timeline_count(), entries)

    def timeline_count(self):
        return sum(self.timeline(c).count() for c in ProblemCandidate.objects.all())

    def test_new_incidents_join_their_candidate(self):
        scan_candidates(now=NOW)
        more = make_recurrence(2, ci=self.vpn, category=self.network, symptom='tunnel drops ')
        scan_candidates()
        candidate = ProblemCandidate.objects.get(basis=CandidateBasis.CI_CLASSIFICATION)
        self.assertEqual(ids(candidate.incidents.all()), ids(self.ci_cluster) | ids(more))
        self.assertEqual(candidate.size, 6)
        self.assertEqual(ProblemCandidate.objects.count(), 3)

    def test_settings_set_the_window_and_the_minimum_size(self):
        with override_settings(PROBLEM_CANDIDATE_MIN_SIZE=4):
            scan_candidates(now=NOW)
        self.assertEqual(list(ProblemCandidate.objects.values_list('basis', flat=True)), ['ci_classification'])
        with override_settings(PROBLEM_CANDIDATE_WINDOW_DAYS=2):
            scan_candidates(now=NOW + dt.timedelta(days=10))
        self.assertEqual(ProblemCandidate.objects.count(), 1)

    def test_a_minimum_below_two_is_refused(self):
        with self.assertRaises(ValidationError):
            scan_candidates(min_size=1)


class DecisionTests(HistoryMixin, ItsmTestCase):
    def setUp(self):
        self.build_history()
        scan_candidates(now=NOW)
        self.candidate = ProblemCandidate.objects.get(basis=CandidateBasis.CI_CLASSIFICATION)
        self.manager = self.make_user(Role.PROBLEM_MANAGER)

    def test_a_dismissal_needs_a_reason(self):
        with self.assertRaises(ValidationError) as caught:
            candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='  ')
        self.assertIn('reason', caught.exception.message_dict)
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.PROPOSED)

    @override_settings(PROBLEM_CANDIDATE_REGROW_FACTOR=2.0)
    def test_a_dismissed_cluster_returns_only_once_grown_by_the_factor(self):
        candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='Planned work.')
        self.candidate.refresh_from_db()
        self.assertEqual((self.candidate.status, self.candidate.dismissed_size), (CandidateStatus.DISMISSED, 4))
        self.assertEqual(candidates.regrow_size(self.candidate), 8)

        make_recurrence(3, ci=self.vpn, category=self.network, symptom='Tunnel drops')
        result = scan_candidates()
        self.candidate.refresh_from_db()
        self.assertEqual((self.candidate.status, self.candidate.size), (CandidateStatus.DISMISSED, 7))
        self.assertEqual(result.reproposed, [])

        make_recurrence(1, ci=self.vpn, category=self.network, symptom='Tunnel drops')
        result = scan_candidates()
        self.candidate.refresh_from_db()
        self.assertEqual(result.reproposed, [self.candidate.pk])
        self.assertEqual((self.candidate.status, self.candidate.size), (CandidateStatus.PROPOSED, 8))
        entry = self.timeline(self.candidate, TimelineKind.TRANSITION).last()
        self.assertIn('Proposed again', entry.message)
        self.assertEqual(ProblemCandidate.objects.filter(basis=CandidateBasis.CI_CLASSIFICATION).count(), 1)

    def test_accepting_opens_a_problem_with_the_incidents_linked(self):
        problem = candidates.candidate_accept(candidate=self.candidate, actor=Actor(user=self.manager))
        self.assertEqual(
            set(ProblemIncident.objects.filter(problem=problem).values_list('incident', flat=True)),
            ids(self.ci_cluster),
        )
        self.assertEqual(
            (problem.category, problem.owner, problem.symptoms), (self.network, self.manager, 'Tunnel drops')
        )
        self.assertEqual(list(problem.cis.all()), [self.vpn])
        self.candidate.refresh_from_db()
        self.assertEqual((self.candidate.status, self.candidate.problem), (CandidateStatus.ACCEPTED, problem))
        self.assertEqual(self.candidate.decided_by, self.manager)
        with self.assertRaises(Conflict):
            candidates.candidate_accept(candidate=self.candidate, actor=Actor(user=self.manager))
        with self.assertRaises(Conflict):
            candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='Late.')

    def test_a_similar_text_candidate_is_accepted_without_a_classification(self):
        candidate = ProblemCandidate.objects.get(basis=CandidateBasis.SIMILAR_TEXT)
        problem = candidates.candidate_accept(
            candidate=candidate, actor=Actor(user=self.manager), short_description='Outlook calendar crash'
        )
        self.assertEqual(
            (problem.short_description, problem.category, problem.owner), ('Outlook calendar crash', None, self.manager)
        )
        self.assertEqual(set(problem.incident_links.values_list('incident', flat=True)), ids(self.text_cluster))

    def test_an_accepted_candidate_is_left_alone(self):
        candidates.candidate_accept(candidate=self.candidate, actor=Actor(user=self.manager))
        make_recurrence(5, ci=self.vpn, category=self.network, symptom='Tunnel drops')
        result = scan_candidates()
        self.candidate.refresh_from_db()
        self.assertIn(self.candidate.pk, result.left_alone)
        self.assertEqual((self.candidate.status, self.candidate.size), (CandidateStatus.ACCEPTED, 4))

    def test_incidents_another_problem_took_are_not_linked_again(self):
        taken = self.ci_cluster[0]
        other = make_problem()
        link_incident(problem=other, incident=taken, actor=SYSTEM)
        problem = candidates.candidate_accept(candidate=self.candidate, actor=Actor(user=self.manager))
        self.assertEqual(problem.incident_links.count(), 3)
        self.assertEqual(ProblemIncident.objects.get(incident=taken).problem, other)

    def test_accepting_is_one_transaction(self):
        from unittest import mock

        refused = mock.patch('problems.incident_links.link_incident', side_effect=Conflict('refused'))
        with refused, self.assertRaises(Conflict):
            candidates.candidate_accept(candidate=self.candidate, actor=Actor(user=self.manager))
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.PROPOSED)
        from problems.models import Problem

        self.assertFalse(Problem.objects.filter(short_description=self.candidate.title).exists())

    def test_only_problem_managers_decide(self):
        for role in (Role.SERVICE_DESK_AGENT, Role.INCIDENT_MANAGER, Role.REQUESTER):
            user = self.make_user(role)
            with self.subTest(role=role), self.assertRaises(NotAllowed):
                candidates.candidate_accept(candidate=self.candidate, actor=Actor(user=user))
            with self.subTest(role=role), self.assertRaises(NotAllowed):
                candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=user), reason='No.')
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.PROPOSED)


class TaskTests(HistoryMixin, ItsmTestCase):
    def test_the_task_scans_and_is_on_the_beat_schedule(self):
        self.build_history()
        counts = problem_candidate_scan_task()
        self.assertEqual((counts['created'], counts['clusters']), (3, 3))
        self.assertEqual(problem_candidate_scan_task()['created'], 0)
        entry = app.conf.beat_schedule['problem-candidate-scan']
        self.assertEqual(entry['task'], 'problems.tasks.problem_candidate_scan_task')
        self.assertEqual(entry['schedule'], 3600.0)


class SimilarityTests(ItsmTestCase):
    def test_trigrams_follow_pg_trgm(self):
        self.assertEqual(trigrams('Cat'), {'  c', ' ca', 'cat', 'at '})
        self.assertAlmostEqual(similarity(trigrams('word'), trigrams('two words')), 4 / 11)

    def test_the_prefix_filter_finds_every_similar_pair(self):
        rng = random.Random(7)
        words = ['mail', 'server', 'vpn', 'drops', 'outlook', 'crash', 'calendar', 'printer', 'jam', 'login']
        texts = [' '.join(rng.sample(words, rng.randint(1, 4))) for _ in range(120)]
        sets = [trigrams(t) for t in texts]
        for threshold in (0.3, 0.6, 0.9):
            brute = {
                (i, j)
                for i, j in itertools.combinations(range(len(sets)), 2)
                if similarity(sets[i], sets[j]) >= threshold
            }
            self.assertEqual(set(similar_pairs(sets, threshold)), brute)


# ---------------------------------------------------------------------------------------------- pages and API
class CandidateRowsMixin:
    """Candidates are written by the scan: no add, edit or delete, in pages or the API."""

    view_roles = (Role.PROBLEM_MANAGER,)
    write_roles = (Role.PROBLEM_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return ProblemCandidateFactory(**kwargs)


class ProblemCandidateViewTests(CandidateRowsMixin, ViewTestCases.ModelViewTestCase):
    model = ProblemCandidate

    def form_data(self):
        return {'reason': 'Known maintenance window.'}

    def test_add(self):
        with self.assertRaises(NoReverseMatch):
            reverse('problems:problemcandidate_add')

    test_add_without_permission_is_forbidden = test_add
    test_add_invalid_keeps_input_and_shows_errors = test_add

    def test_edit(self):
        with self.assertRaises(NoReverseMatch):
            reverse('problems:problemcandidate_edit', args=[1])

    test_edit_without_permission_is_forbidden = test_edit

    def test_delete(self):
        with self.assertRaises(NoReverseMatch):
            reverse('problems:problemcandidate_delete', args=[1])

    def test_list_shows_the_evidence(self):
        candidate = self.make_object(size=3, short_description='<b>VPN</b> drops')
        self.login(Role.PROBLEM_MANAGER)
        response = self.client.get(self.url('list'))
        self.assertContains(response, candidate.title)
        self.assertContains(response, 'title="', msg_prefix='a sparkline bar per day')
        self.assertContains(response, 'Problem candidates')

    def test_detail_shows_incidents_days_and_the_forms(self):
        candidate = self.make_object(size=3)
        incident = candidate.incidents.first()
        self.login(Role.PROBLEM_MANAGER)
        response = self.client.get(self.url('detail', candidate))
        self.assertContains(response, incident.number)
        self.assertContains(response, 'Incidents per day')
        self.assertContains(response, reverse('problems:problemcandidate_accept', args=[candidate.pk]))
        self.assertContains(response, reverse('problems:problemcandidate_dismiss', args=[candidate.pk]))

    def test_others_see_the_evidence_without_the_forms(self):
        candidate = self.make_object()
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(self.url('detail', candidate))
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, reverse('problems:problemcandidate_accept', args=[candidate.pk]))
        accept = reverse('problems:problemcandidate_accept', args=[candidate.pk])
        self.assertHttpStatus(self.client.post(accept), 403)
        candidate.refresh_from_db()
        self.assertEqual(candidate.status, CandidateStatus.PROPOSED)

    def test_user_content_is_escaped(self):
        category = make_category('<script>x</script>')
        candidate = self.make_object(category=category)
        self.login(Role.PROBLEM_MANAGER)
        for url in (self.url('list'), self.url('detail', candidate)):
            response = self.client.get(url)
            self.assertNotContains(response, '<script>x</script>')
            self.assertContains(response, '&lt;script&gt;x&lt;/script&gt;')

    def test_accept_page_opens_the_problem(self):
        candidate = self.make_object()
        self.login(Role.PROBLEM_MANAGER)
        url = reverse('problems:problemcandidate_accept', args=[candidate.pk])
        self.assertHttpStatus(self.client.get(url), 200)
        response = self.client.post(url, {'short_description': 'VPN tunnels drop'})
        candidate.refresh_from_db()
        self.assertRedirects(response, candidate.problem.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(candidate.problem.short_description, 'VPN tunnels drop')
        self.assertEqual(candidate.problem.incident_links.count(), 3)
        response = self.client.post(url, {})
        self.assertHttpStatus(response, 409)
        self.assertContains(response, 'already accepted', status_code=409)

    def test_dismiss_page_needs_a_reason(self):
        candidate = self.make_object()
        self.login(Role.PROBLEM_MANAGER)
        url = reverse('problems:problemcandidate_dismiss', args=[candidate.pk])
        response = self.client.post(url, {'reason': ''})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'is-invalid')
        response = self.client.post(url, {'reason': 'Planned maintenance.'})
        self.assertRedirects(response, candidate.get_absolute_url(), fetch_redirect_response=False)
        candidate.refresh_from_db()
        self.assertEqual((candidate.status, candidate.dismiss_reason), ('dismissed', 'Planned maintenance.'))
        response = self.client.get(self.url('detail', candidate))
        self.assertContains(response, 'Proposed again from 6 incidents')

    def test_detail_query_count_does_not_grow_with_incidents(self):
        small, large = self.make_object(size=3), self.make_object(size=9)
        self.login(Role.PROBLEM_MANAGER)
        self.client.get(self.url('detail', small))
        counts = [self.count_queries(lambda c=c: self.client.get(self.url('detail', c))) for c in (small, large)]
        self.assertEqual(counts[0], counts[1])


class ProblemCandidateAPITests(CandidateRowsMixin, APITestCases.ModelAPITestCase):
    model = ProblemCandidate
    basename = 'problemcandidate'
    supports_delete = False

    def filter_cases(self):
        proposed = self.make_object()
        dismissed = self.make_object(status='dismissed', size=4)
        return [
            ({'status': 'proposed'}, [proposed]),
            ({'status': 'dismissed'}, [dismissed]),
            ({'min_size': '4'}, [dismissed]),
            ({'ci': proposed.ci.number}, [proposed]),
            ({'basis': 'similar_text'}, []),
        ]

    def test_create_writes_record_and_timeline(self):
        response = self.api_client(self.writer()).post(self.list_url(), {'title': 'x'}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertFalse(ProblemCandidate.objects.exists())

    def test_create_without_permission_is_forbidden(self):
        response = self.api_client(self.user_without('add')).post(self.list_url(), {'title': 'x'}, format='json')
        self.assertIn(response.status_code, (403, 405))
        self.assertFalse(ProblemCandidate.objects.exists())

    def test_create_rejects_malformed_json(self):
        response = self.api_client(self.writer()).post(self.list_url(), '{"x', content_type='application/json')
        self.assertHttpStatus(response, 405)

    def test_update_records_field_changes(self):
        obj = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(obj), {'title': 'x'}, format='json')
        self.assertHttpStatus(response, 405)
        obj.refresh_from_db()
        self.assertNotEqual(obj.title, 'x')

    def test_read_only_fields_are_not_writable(self):
        obj = self.make_object()
        for method in ('put', 'patch'):
            response = getattr(self.api_client(self.writer()), method)(
                self.detail_url(obj), {'status': 'accepted', 'size': 99}, format='json'
            )
            self.assertHttpStatus(response, 405)
        obj.refresh_from_db()
        self.assertEqual((obj.status, obj.size), (CandidateStatus.PROPOSED, 3))

    def test_accept_and_dismiss_actions(self):
        first, second = self.make_object(), self.make_object()
        client = self.api_client(self.writer())
        response = client.post(reverse('api:problemcandidate-accept', args=[first.pk]), {}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['linked'], 3)
        self.assertEqual(response.data['candidate']['status'], 'accepted')
        self.assertEqual(response.data['candidate']['problem'], response.data['problem'])
        response = client.post(reverse('api:problemcandidate-accept', args=[first.pk]), {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'candidate_decided')

        url = reverse('api:problemcandidate-dismiss', args=[second.pk])
        response = client.post(url, {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', str(response.data))
        response = client.post(url, {'reason': 'Seasonal load, expected.'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['status'], response.data['dismissed_size']), ('dismissed', 3))

    def test_only_problem_managers_accept_or_dismiss(self):
        candidate = self.make_object()
        for role in (Role.SERVICE_DESK_AGENT, Role.INCIDENT_MANAGER, Role.REQUESTER):
            client = self.api_client(self.make_user(role))
            with self.subTest(role=role):
                self.assertHttpStatus(client.post(reverse('api:problemcandidate-accept', args=[candidate.pk])), 403)
                response = client.post(reverse('api:problemcandidate-dismiss', args=[candidate.pk]), {'reason': 'x'})
                self.assertHttpStatus(response, 403)
        candidate.refresh_from_db()
        self.assertEqual(candidate.status, CandidateStatus.PROPOSED)

    def test_staff_read_and_requesters_do_not(self):
        candidate = self.make_object()
        self.assertHttpStatus(
            self.api_client(self.make_user(Role.SERVICE_DESK_AGENT)).get(self.detail_url(candidate)), 200
        )
        self.assertHttpStatus(self.api_client(self.make_user(Role.REQUESTER)).get(self.detail_url(candidate)), 403)


class LeaderGroupTests(ItsmTestCase):
    def test_near_variants_do_not_chain_into_one_group(self):
        # A chain: each text similar to its neighbours only. Joining pairs transitively makes one group of all four;
        # around leaders, the last is not similar to the leader (the most frequent text) and stays apart.
        texts = ['vpn drops at night', 'vpn drops at noon', 'vpn stops at noon', 'mail stops at noon']
        groups = candidates.leader_groups(texts, [1, 5, 1, 1], [(0, 1), (1, 2), (2, 3)])
        self.assertEqual(sorted(sorted(g) for g in groups), [[0, 1, 2], [3]])
        self.assertEqual(groups[0][0], 1, 'the most frequent text leads')

    def test_a_text_joins_the_leader_it_is_most_like(self):
        texts = ['printer jams on floor two', 'printer jam floor two', 'printer jams on floor three']
        groups = candidates.leader_groups(texts, [5, 1, 5], [(0, 1), (1, 2), (0, 2)])
        self.assertEqual(sorted(sorted(g) for g in groups), [[0, 1, 2]])
        groups = candidates.leader_groups(texts, [5, 1, 5], [(0, 1), (1, 2)])
        self.assertEqual(sorted(sorted(g) for g in groups), [[0, 1], [2]])


class CandidateAdminTests(ItsmTestCase):
    def test_the_admin_lists_candidates_read_only(self):
        candidate = ProblemCandidateFactory()
        admin = self.make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(admin)
        response = self.client.get(reverse('admin:problems_problemcandidate_changelist'))
        self.assertContains(response, candidate.title)
        self.assertHttpStatus(self.client.get(reverse('admin:problems_problemcandidate_add')), 403)
        url = reverse('admin:problems_problemcandidate_delete', args=[candidate.pk])
        self.assertHttpStatus(self.client.post(url, {'post': 'yes'}), 403)
        self.assertTrue(ProblemCandidate.objects.filter(pk=candidate.pk).exists())
