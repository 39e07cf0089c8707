"""Every concrete model of ours has generic API and page tests, or a stated reason why not; every process record
(a model with a lifecycle) has the generated workflow tests of `tests/workflow.py`."""

import importlib
import pkgutil

from django.apps import apps

import tests
from itsm.records import ProcessRecord
from itsm.roles import PROJECT_APPS
from tests.base import APITestCases, ViewTestCases
from tests.workflow import WorkflowTable

# Models without CRUD of their own, and why.
EXEMPT = {
    'itsm.NumberSequence': 'internal counter behind reference numbers; tested in tests/itsm/test_numbering.py',
    'itsm.ReferenceVersion': "the version token of the desk rules' per-process snapshots, written by every save of a "
    'rule (tests/itsm/test_snapshots.py)',
    'itsm.TimelineEntry': 'append-only history written by services; read through each record (test_audit.py)',
    'itsm.ApiToken': "a person's own credentials, listed, created and revoked by their owner at /api/v1/tokens/ and on "
    'the API tokens page, never edited (tests/itsm/test_api_tokens.py)',
    'itsm.IdempotencyKey': 'the stored first answer to a POST with an Idempotency-Key, written by the API middleware '
    '(tests/itsm/test_idempotency.py)',
    'reports.DailyRollup': 'rollup rows rebuilt from tickets by reports.services; read via metrics (tests/reports)',
    'reports.PeriodRollup': 'daily rollup rows summed per week and month by reports.services (test_period_rollups.py)',
    'reports.RollupContribution': "each ticket's share of the rollup rows, kept by reports.services for refreshes by "
    'difference (test_refresh_by_difference.py)',
    'itsm.OutboxMessage': 'notifications on their way out, written only by the notification kit; read in the admin '
    'site and at /api/v1/notification-outbox/, no page of its own (tests/itsm/test_outbox.py)',
    'itsm.Attachment': 'files belong to a process record: uploaded, listed and downloaded on its pages and the portal '
    '(tests/incidents/test_views_tickets.py, test_portal.py, test_notifications.py)',
    'changes.CalendarToken': "a person's calendar-feed secret, created and replaced on the change calendar page and "
    'never edited (tests/changes/test_calendar.py)',
    'major_incidents.MajorIncidentChild': 'linked and unlinked on the major-incident and incident pages, no page of '
    'its own (tests/major_incidents/test_pages.py, test_links.py); generic API tests in test_api_children.py',
    'major_incidents.Recipient': "edited on the major-incident page's recipient card, no page of its own "
    '(tests/major_incidents/test_pages.py, test_recipients.py); generic API tests in test_api_children.py',
    'major_incidents.MajorIncidentUpdate': 'posted and listed on the major-incident page and the status page, never '
    'edited (tests/major_incidents/test_pages.py, tests/statuspage); generic API tests in test_api_updates.py',
    'major_incidents.Validation': "the validate action's record, shown on the major-incident page "
    '(tests/major_incidents/test_workflow_table.py, test_pages.py); generic API tests in test_api_updates.py',
    'major_incidents.CadenceReminder': 'written once per missed update by the cadence job, never edited '
    '(tests/major_incidents/test_cadence.py); generic API tests in test_api_updates.py',
    'major_incidents.PostIncidentReview': "one per major incident, its page addressed by the major incident's number "
    '(tests/major_incidents/test_review_pages.py); generic API tests in test_api_reviews.py',
    'major_incidents.ActionItem': 'added on its review page, listed, edited, done and reopened without a detail page '
    '(tests/major_incidents/test_review_pages.py); generic API tests in test_api_reviews.py',
    'knowledge.ArticleVersion': "kept for good when an article is published, never edited; read on its article's "
    'version and compare pages and at /api/v1/articles/{number}/versions/ (tests/knowledge/test_versions.py, '
    'test_api.py)',
    'knowledge.ArticleVote': 'one per person, cast on the article page, in the portal or at '
    '/api/v1/articles/{number}/votes/, never edited (tests/knowledge/test_services.py, test_portal.py, test_api.py)',
    'knowledge.ArticleViewDay': 'a counter row per article and day written by the view service; read through the '
    'measures (tests/knowledge/test_measures.py, test_dashboard.py, test_admin.py)',
    'knowledge.ArticleUse': '"used to resolve", recorded from the incident page or /api/v1/articles/{number}/uses/ '
    '(tests/knowledge/test_links.py, test_api.py)',
    'knowledge.Deflection': '"this solved it" in the portal or /api/v1/articles/{number}/deflections/, never edited '
    '(tests/knowledge/test_suggestions.py, test_journey_browser.py, test_api.py)',
    'knowledge.ReviewReminder': 'written once per article and review date by the reminder job, never edited '
    '(tests/knowledge/test_reviews.py)',
    'webhooks.WebhookDelivery': 'written by the webhook events and sending, never edited; read-only API with '
    'redeliver and the delivery log pages (tests/webhooks/test_api.py, test_pages.py, test_delivery.py)',
    'webhooks.WebhookAttempt': "one row per HTTP attempt of a delivery, shown on the delivery's page and in its API "
    'detail (tests/webhooks/test_delivery.py, test_pages.py, test_api.py)',
    'mailboxes.Mailbox': 'configured in the admin site, no page of its own (tests/mailboxes/test_admin.py); generic '
    'API tests in tests/mailboxes/test_api.py; polled against a real IMAP server in test_polling.py',
    'mailboxes.InboundMessage': 'read-only log written by the poller, shown in the admin site and at '
    '/api/v1/inbound-messages/ (tests/mailboxes/test_polling.py, test_api.py, test_admin.py)',
    'hypercare.HypercareIncident': 'tags written by the hypercare services when an incident opens on (or moves onto) '
    'a service in hypercare, never edited; shown on the incident page and the period dashboard, `?incident=` at '
    '/api/v1/hypercare-periods/ (tests/hypercare/test_periods.py, test_dashboard.py)',
    'hypercare.HypercareSummary': 'the claim of one daily summary per period and day, written by the summary job, '
    'never edited (tests/hypercare/test_periods.py, test_concurrency.py)',
    'monitoring.Alert': 'written only by the monitoring services from inbound events, never edited; read-only list and '
    'detail pages and /api/v1/monitoring-alerts/ '
    '(tests/monitoring/test_alerts.py, test_events.py, test_alertmanager.py)',
    'oncall.Page': 'written only by the paging service and the escalation sweep, never edited; read-only list and '
    'detail pages, /api/v1/oncall-pages/ and its acknowledge action (tests/oncall/test_paging.py, test_api.py)',
    'predictions.DurationProfile': 'rebuilt as a whole from completed tickets by the predictions job, never edited; '
    'read-only /api/v1/duration-profiles/ (tests/predictions/test_predictions.py)',
    'predictions.Prediction': 'one per open ticket, written by the system as the ticket changes; shown on the '
    "incident page, the portal and the incident resource's `prediction` (tests/predictions/test_predictions.py)",
}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _covered(base, *, concrete: bool = False) -> set[str]:
    """Labels of the models that subclasses of `base` in our test modules declare (proxies as their concrete
    model when `concrete`)."""
    for module in pkgutil.walk_packages(tests.__path__, prefix='tests.'):
        if module.name.rsplit('.', 1)[-1].startswith('test_'):
            importlib.import_module(module.name)
    models = [sub.model for sub in _all_subclasses(base) if getattr(sub, 'model', None) is not None]
    return {(m._meta.concrete_model if concrete else m)._meta.label for m in models}


def _our_models() -> set[str]:
    return {
        model._meta.label
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if not model._meta.abstract and not model._meta.proxy and not model._meta.auto_created
    }


def test_every_model_has_generic_api_tests():
    missing = _our_models() - _covered(APITestCases.ModelAPITestCase) - set(EXEMPT)
    assert not missing, f'models without an APITestCases.ModelAPITestCase subclass: {sorted(missing)}'


def test_every_model_has_generic_page_tests():
    missing = _our_models() - _covered(ViewTestCases.ModelViewTestCase) - set(EXEMPT)
    assert not missing, f'models without a ViewTestCases.ModelViewTestCase subclass: {sorted(missing)}'


def test_every_process_record_has_generated_workflow_tests():
    records = {
        label
        for label in _our_models()
        if issubclass(apps.get_model(label), ProcessRecord) and apps.get_model(label).actions is not None
    }
    assert records, 'no process record found: the check would pass without checking anything'
    missing = records - _covered(WorkflowTable, concrete=True)
    assert not missing, f'process records without a tests.workflow.WorkflowTable subclass: {sorted(missing)}'


def test_exemptions_name_real_models():
    assert set(EXEMPT) <= _our_models()
