"""The Celery application and the whole periodic schedule (one place to read what runs when)."""

import os

from celery import Celery

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')

app = Celery('itsm')
app.config_from_object('django.conf:settings', namespace='CELERY')
app.autodiscover_tasks()

# Beat loads this into django-celery-beat's tables on start; operators may then edit schedules in the admin.
app.conf.beat_schedule = {
    # Completed tickets the caller never answered close after INCIDENT_AUTO_CLOSE_DAYS; the task is idempotent.
    'incident-auto-close': {
        'task': 'incidents.tasks.incident_auto_close_task',
        'schedule': float(os.environ.get('INCIDENT_AUTO_CLOSE_SECONDS', '3600')),
    },
    # SLA warnings and breaches: reads only the clocks that are due, so a short interval stays cheap.
    'sla-sweep': {
        'task': 'sla.tasks.sla_sweep_task',
        'schedule': float(os.environ.get('SLA_SWEEP_SECONDS', '60')),
    },
    # Predictive SLA warnings: each group's queue and throughput; flags are claimed, so overlapping runs warn once.
    'sla-queue-forecast': {
        'task': 'sla.tasks.sla_queue_forecast_task',
        'schedule': float(os.environ.get('SLA_FORECAST_SECONDS', '300')),
    },
    # KPI rollups: re-rolls the days whose tickets changed since the last run, then sends the reports that are due.
    'reports-tick': {
        'task': 'reports.tasks.reports_tick_task',
        'schedule': float(os.environ.get('REPORTS_TICK_SECONDS', '600')),
    },
    # Problem candidates: recurrences in the last PROBLEM_CANDIDATE_WINDOW_DAYS of incidents; idempotent.
    'problem-candidate-scan': {
        'task': 'problems.tasks.problem_candidate_scan_task',
        'schedule': float(os.environ.get('PROBLEM_CANDIDATE_SCAN_SECONDS', '3600')),
    },
    # Predicted resolution times: duration profiles rebuilt from completed tickets, then every open ticket's prediction.
    'predictions-profiles': {
        'task': 'predictions.tasks.predictions_profiles_task',
        'schedule': float(os.environ.get('PREDICTION_PROFILE_SECONDS', '3600')),
    },
    # Major-incident updates overdue on their cadence: one reminder per missed update, however many runs overlap.
    'major-update-reminders': {
        'task': 'major_incidents.tasks.major_update_reminders_task',
        'schedule': float(os.environ.get('MAJOR_UPDATE_REMINDER_SECONDS', '60')),
    },
    # Overdue action items of post-incident reviews: their owners are reminded once per item per day.
    'major-action-item-reminders': {
        'task': 'major_incidents.review.overdue_action_item_reminders_task',
        'schedule': float(os.environ.get('MAJOR_ACTION_ITEM_REMINDER_SECONDS', '3600')),
    },
    # Inbound e-mail: each active mailbox's unread mail; a message is processed once however often polls overlap.
    'mailbox-poll': {
        'task': 'mailboxes.tasks.poll_mailboxes_task',
        'schedule': float(os.environ.get('MAILBOX_POLL_SECONDS', '60')),
    },
    # Notifications: outbox rows whose delivery task was lost (broker down, worker killed) or whose retry is due;
    # rows are locked while sent, so runs overlapping each other and the tasks send each once. Purges old sent rows.
    'notification-outbox': {
        'task': 'itsm.tasks.notification_outbox_sweep_task',
        'schedule': float(os.environ.get('NOTIFY_OUTBOX_SWEEP_SECONDS', '60')),
    },
    # Outbound webhooks: retries that are due but whose queued message was lost (claimed, so never sent twice).
    'webhook-sweep': {
        'task': 'webhooks.tasks.webhook_sweep_task',
        'schedule': float(os.environ.get('WEBHOOK_SWEEP_SECONDS', '60')),
    },
    # On-call: pages unacknowledged past their level's minutes page the next level (claimed, so each escalates once).
    'oncall-escalate': {
        'task': 'oncall.tasks.oncall_escalate_task',
        'schedule': float(os.environ.get('ONCALL_ESCALATE_SECONDS', '60')),
    },
    # Knowledge articles past their review date: the owner is reminded once per article and review date.
    'knowledge-review-reminders': {
        'task': 'knowledge.tasks.knowledge_review_reminders_task',
        'schedule': float(os.environ.get('KNOWLEDGE_REVIEW_REMINDER_SECONDS', '3600')),
    },
    # Hypercare: periods whose start or end came (each claimed once), and the owners' daily summaries (once a day).
    'hypercare-sweep': {
        'task': 'hypercare.tasks.hypercare_sweep_task',
        'schedule': float(os.environ.get('HYPERCARE_SWEEP_SECONDS', '300')),
    },
    'hypercare-daily-summary': {
        'task': 'hypercare.tasks.hypercare_daily_summary_task',
        'schedule': float(os.environ.get('HYPERCARE_SUMMARY_SECONDS', '900')),
    },
}
