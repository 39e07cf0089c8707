"""The admin site for major incidents: every model's changelist and change page load in a number of queries that
does not grow with the rows; the records are read-only there; update templates are edited with their history."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from itsm.choices import Role, TimelineKind
from major_incidents.choices import MajorIncidentState, UpdateAudience
from major_incidents.models import (
    ActionItem,
    CadenceReminder,
    MajorIncident,
    MajorIncidentCandidate,
    MajorIncidentChild,
    MajorIncidentUpdate,
    PostIncidentReview,
    Recipient,
    UpdateTemplate,
    Validation,
)
from tests.base import ItsmTestCase
from tests.factories import make_user

from .factories import (
    ActionItemFactory,
    CandidateFactory,
    ChildFactory,
    RecipientFactory,
    UpdateFactory,
    UpdateTemplateFactory,
    ValidationFactory,
    make_major,
)
from .test_api_updates import make_reminder

S = MajorIncidentState


# How to make one row of each model (the cadence reminder through the cadence job).
BUILDERS = {
    MajorIncident: lambda: make_major(S.ASSESSMENT),
    MajorIncidentChild: lambda: ChildFactory(major_incident=make_major(S.ASSESSMENT)),
    Recipient: lambda: RecipientFactory(major_incident=make_major(S.ASSESSMENT)),
    UpdateTemplate: UpdateTemplateFactory,
    MajorIncidentUpdate: lambda: UpdateFactory(major_incident=make_major(S.ASSESSMENT)),
    Validation: lambda: ValidationFactory(major_incident=make_major(S.REVIEW)),
    PostIncidentReview: lambda: ActionItemFactory().review,
    ActionItem: ActionItemFactory,
    MajorIncidentCandidate: CandidateFactory,
    CadenceReminder: make_reminder,
}


class MajorIncidentAdminTests(ItsmTestCase):
    def setUp(self):
        self.admin = make_user(Role.ADMINISTRATOR, username='root', is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def url(self, model, view: str, *args) -> str:
        return reverse(f'admin:major_incidents_{model._meta.model_name}_{view}', args=args)

    def test_every_model_is_registered(self):
        for model in apps.get_app_config('major_incidents').get_models():
            with self.subTest(model=model.__name__):
                self.assertTrue(admin.site.is_registered(model))

    def test_changelists_and_change_pages_load_in_constant_queries(self):
        for model, build in BUILDERS.items():
            with self.subTest(model=model.__name__):
                obj = build()
                url = self.url(model, 'changelist')
                self.client.get(url)
                few = self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                for _ in range(3):
                    build()
                many = self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                self.assertEqual(few, many, f'{model.__name__} changelist queries grew from {few} to {many}')
                self.assertHttpStatus(self.client.get(self.url(model, 'change', obj.pk)), 200)
                search = self.client.get(url, {'q': 'MIR'})
                self.assertHttpStatus(search, 200)

    def test_records_are_read_only(self):
        major = make_major(S.ASSESSMENT)
        self.assertHttpStatus(self.client.get(self.url(MajorIncident, 'add')), 403)
        response = self.client.get(self.url(MajorIncident, 'change', major.pk))
        self.assertNotContains(response, 'name="_save"')
        self.assertHttpStatus(self.client.post(self.url(MajorIncident, 'delete', major.pk)), 403)
        self.assertTrue(MajorIncident.objects.filter(pk=major.pk).exists())

    def test_update_templates_are_edited_with_their_history(self):
        data = {
            'name': 'Hand-off notice',
            'audience': UpdateAudience.RECIPIENTS,
            'status': '',
            'subject': '{number} handed off',
            'body': '{handoff_owner} now owns the fix ({handoff_reference}).',
            'active': 'on',
        }
        response = self.client.post(self.url(UpdateTemplate, 'add'), data)
        self.assertHttpStatus(response, 302)
        template = UpdateTemplate.objects.get(name='Hand-off notice')
        self.assertTrue(self.timeline(template, TimelineKind.CREATED).exists())
        response = self.client.post(self.url(UpdateTemplate, 'change', template.pk), {**data, 'subject': 'Handed off'})
        self.assertHttpStatus(response, 302)
        template.refresh_from_db()
        self.assertEqual(template.subject, 'Handed off')
        entry = self.timeline(template).exclude(kind=TimelineKind.CREATED).get()
        self.assertEqual(entry.actor, self.admin)
        response = self.client.post(self.url(UpdateTemplate, 'delete', template.pk), {'post': 'yes'})
        self.assertHttpStatus(response, 302)
        self.assertFalse(UpdateTemplate.objects.filter(pk=template.pk).exists())
