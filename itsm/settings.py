"""Pitcrew settings: one file, every value that differs between machines comes from the environment.

Without DATABASE_URL and REDIS_URL the app runs on embedded defaults (SQLite in WAL mode, a filesystem
Celery broker, a local-memory cache), so `make run` needs no server. See the configuration table in README.md.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get('VAR_DIR', BASE_DIR / 'var'))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == '':
        return default
    return value.strip().lower() in {'1', 'true', 'yes', 'on'}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, '') else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(',') if item.strip()]


# ---------------------------------------------------------------------------------------------- core
DEBUG = env_bool('DEBUG', False)
SECRET_KEY = os.environ.get('SECRET_KEY', '')
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured('SECRET_KEY must be set when DEBUG is off.')
    SECRET_KEY = 'dev-only-insecure-key-never-use-in-production-0123456789abcdef'
ALLOWED_HOSTS = env_list('ALLOWED_HOSTS', 'localhost,127.0.0.1,[::1]' if DEBUG else '')
CSRF_TRUSTED_ORIGINS = env_list('CSRF_TRUSTED_ORIGINS', '')
SITE_URL = os.environ.get('SITE_URL', 'http://127.0.0.1:8000').rstrip('/')

INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.messages',
    'whitenoise.runserver_nostatic',
    'django.contrib.staticfiles',
    'django.contrib.humanize',
    'rest_framework',
    # No longer authenticates (itsm.ApiToken does); kept for its table, which the synthetic data set still clears.
    'rest_framework.authtoken',
    'django_filters',
    'drf_spectacular',
    'drf_spectacular_sidecar',
    'django_htmx',
    'django_celery_beat',
    'itsm',
    'cmdb',
    'sla',
    'incidents',
    'problems',
    'changes',
    'major_incidents',
    'statuspage',
    'knowledge',
    'reports',
    'inbox',
    'mailboxes',
    'monitoring',
    'webhooks',
    'oncall',
    'hypercare',
    'predictions',
    'imports',
    'synthetic',
]

MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'itsm.middleware.ContentSecurityPolicyMiddleware',
    'whitenoise.middleware.WhiteNoiseMiddleware',
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'itsm.middleware.RefuseNulMiddleware',
    'itsm.api.idempotency.IdempotencyMiddleware',
    'itsm.middleware.TimeZoneMiddleware',
    'itsm.middleware.ReplicaReadsMiddleware',
    'django.contrib.messages.middleware.MessageMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
    'django_htmx.middleware.HtmxMiddleware',
    'itsm.api.release.ReleaseApiResponseMiddleware',
]

# Sent with every answer (itsm.middleware.ContentSecurityPolicyMiddleware); empty sends none.
CONTENT_SECURITY_POLICY = os.environ.get(
    'CONTENT_SECURITY_POLICY',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

ROOT_URLCONF = 'itsm.urls'
WSGI_APPLICATION = 'itsm.wsgi.application'
ASGI_APPLICATION = 'itsm.asgi.application'
AUTH_USER_MODEL = 'itsm.User'
# Django's model backend, with a person's roles and permissions read in one query.
AUTHENTICATION_BACKENDS = ['itsm.access.DeskModelBackend']
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'

TEMPLATES = [
    {
        # Django's backend, releasing each rendering's context (`itsm.template_backend`), under Django's alias.
        'BACKEND': 'itsm.template_backend.ReleasingDjangoTemplates',
        'NAME': 'django',
        'DIRS': [BASE_DIR / 'templates'],
        'APP_DIRS': True,
        'OPTIONS': {
            'context_processors': [
                'django.template.context_processors.request',
                'django.contrib.auth.context_processors.auth',
                'django.contrib.messages.context_processors.messages',
                'itsm.context_processors.navigation',
                'itsm.banners.banners',
            ],
            'libraries': {'live': 'itsm.views.live'},
        },
    },
]

# ------------------------------------------------------------------------------------------ database
DATABASE_URL = os.environ.get('DATABASE_URL', '')
if DATABASE_URL:
    # Persistent connections suit a fixed pool of worker processes (gunicorn, Celery): each keeps one. The
    # development server starts a thread per request, and each thread would keep its own connection until the
    # server runs out of them, so in DEBUG every request closes its connection unless DB_CONN_MAX_AGE says otherwise.
    conn_max_age = env_int('DB_CONN_MAX_AGE', 0 if DEBUG else 60)
    DATABASES = {'default': dj_database_url.parse(DATABASE_URL, conn_max_age=conn_max_age)}
    DATABASES['default']['CONN_HEALTH_CHECKS'] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        'default': {
            'ENGINE': 'django.db.backends.sqlite3',
            'NAME': os.environ.get('SQLITE_PATH', VAR_DIR / 'pitcrew.sqlite3'),
            'OPTIONS': {
                # WAL lets the web process read while the Celery worker writes; IMMEDIATE transactions and a
                # busy timeout make concurrent writers queue instead of failing with "database is locked".
                'init_command': 'PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;',
                'transaction_mode': 'IMMEDIATE',
                'timeout': 20,
            },
            'TEST': {'NAME': os.environ.get('SQLITE_TEST_PATH') or None},
        }
    }
IS_POSTGRES = DATABASES['default']['ENGINE'].endswith('postgresql')

# Read replica (itsm.replica, itsm.db_routers): reads that tolerate a little lag (the views in REPLICA_READ_VIEWS on
# GET, and `replica_reads()` blocks in tasks) go to it; writes, and every read in a transaction or after a write, go
# to the primary. A replica that refuses connections, or lags more than REPLICA_MAX_LAG_SECONDS, is left alone for
# REPLICA_RETRY_SECONDS; REPLICA_PIN_SECONDS after a client's write its reads go to the primary (it sees its own
# writes). Without DATABASE_REPLICA_URL there is no `replica` alias and no router: every query goes to `default`.
DATABASE_REPLICA_URL = os.environ.get('DATABASE_REPLICA_URL', '')
REPLICA_READ_VIEWS = env_list(
    'REPLICA_READ_VIEWS',
    'api,reports:overview,reports:team_list,reports:team,reports:my_kpis,reports:agent,reports:export,'
    'reports:definitions,reports:tickets,reports:report_list,reports:report_detail,reports:report_csv,'
    'problems:dashboard,problems:dashboard_drilldown,live',
)
REPLICA_CONNECT_TIMEOUT = env_int('REPLICA_CONNECT_TIMEOUT', 2)
REPLICA_RETRY_SECONDS = env_int('REPLICA_RETRY_SECONDS', 10)
REPLICA_MAX_LAG_SECONDS = env_int('REPLICA_MAX_LAG_SECONDS', 30)

# Python's cyclic garbage collector, per process (`itsm.runtime`): a page builds some 100,000 short-lived objects,
# which at Python's default thresholds (700, 10, 10) start a dozen collections per request and now and then a full
# one over every object the process holds (tens of milliseconds: the slow requests of a page's p95). Three
# integers, or empty for Python's defaults.
GC_THRESHOLDS = tuple(int(n) for n in env_list('GC_THRESHOLDS', '50000,20,100'))
REPLICA_PIN_SECONDS = env_int('REPLICA_PIN_SECONDS', 5)
if DATABASE_REPLICA_URL:
    if not IS_POSTGRES:
        raise ImproperlyConfigured('DATABASE_REPLICA_URL needs DATABASE_URL to point at PostgreSQL.')
    DATABASES['replica'] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=conn_max_age)
    DATABASES['replica']['CONN_HEALTH_CHECKS'] = True
    DATABASES['replica']['OPTIONS'] = {'connect_timeout': REPLICA_CONNECT_TIMEOUT}
    # Test runs read the test database through this alias too, never a replica of their own.
    DATABASES['replica']['TEST'] = {'MIRROR': 'default'}
    DATABASE_ROUTERS = ['itsm.db_routers.PrimaryReplicaRouter']

# ---------------------------------------------------------------------------------- cache and broker
REDIS_URL = os.environ.get('REDIS_URL', '')
if REDIS_URL:
    # Everything processes must agree on lives here or in the database, never in a process: sign-in counts and API
    # rate limits, cached reference data (the priority matrix, dropped on change), once-only marks, and the replica
    # pins. Sessions are rows in the database (SESSION_ENGINE below), uploaded files on MEDIA_ROOT, which every web
    # and worker process must share (one volume, or a network file system across machines), and the beat schedule
    # is django-celery-beat's tables. Two desks on one Redis server use two of its databases (redis://…/0, /1).
    CACHES = {'default': {'BACKEND': 'itsm.cache_backend.RedisCache', 'LOCATION': REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A message a worker took but never acknowledged (it was killed) goes back to the queue after this many seconds.
    # It must outlast the longest task and the longest retry countdown (Celery's backoff stops at 600 s), or Redis
    # would hand a task still running or waiting to a second worker. Nothing waits for it to recover lost work:
    # the outbox, SLA and webhook sweeps redo from the database within a minute what a dead worker left undone.
    CELERY_BROKER_TRANSPORT_OPTIONS = {'visibility_timeout': env_int('CELERY_VISIBILITY_TIMEOUT', 3600)}
else:
    CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache', 'LOCATION': 'pitcrew'}}
    BROKER_DIR = VAR_DIR / 'broker'
    for sub in ('out', 'processed', 'results', 'control'):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = 'filesystem://localhost/'  # the transport ignores the host; naming one keeps kombu quiet
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        'data_folder_in': str(BROKER_DIR / 'out'),
        'data_folder_out': str(BROKER_DIR / 'out'),
        'processed_folder': str(BROKER_DIR / 'processed'),
        'control_folder': str(BROKER_DIR / 'control'),
        'store_processed': False,
    }
    CELERY_RESULT_BACKEND = f'file://{BROKER_DIR / "results"}'

CELERY_TASK_ALWAYS_EAGER = env_bool('CELERY_TASK_ALWAYS_EAGER', False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose pool process died (killed, out of memory) is acknowledged as failed, not queued again: a task that
# kills its process would otherwise be redelivered forever. Work that matters is claimed in the database and its
# sweep (notification outbox, SLA notices, webhooks, on-call) finishes it; a whole worker killed keeps its one
# unacknowledged message (prefetch 1) until the visibility timeout, and the tasks are idempotent when it returns.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The queue tasks go to and workers read when started without --queues (several desks on one Redis).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get('CELERY_TASK_DEFAULT_QUEUE', 'celery')
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = os.environ.get('TIME_ZONE', 'UTC')
CELERY_BEAT_SCHEDULER = 'django_celery_beat.schedulers:DatabaseScheduler'

# ----------------------------------------------------------------------------------------- security
HTTPS = env_bool('HTTPS', not DEBUG)
SECURE_SSL_REDIRECT = HTTPS and env_bool('SECURE_SSL_REDIRECT', True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int('SECURE_HSTS_SECONDS', 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool('SECURE_HSTS_PRELOAD', True)
if env_bool('BEHIND_PROXY', False):
    SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
SECURE_REFERRER_POLICY = 'same-origin'
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r'^health/$']
X_FRAME_OPTIONS = 'DENY'
SESSION_COOKIE_HTTPONLY = True
# Sessions are database rows: any web process serves any request, and `sign out everywhere` deletes them all.
SESSION_ENGINE = 'django.contrib.sessions.backends.db'

AUTH_PASSWORD_VALIDATORS = [
    {'NAME': 'django.contrib.auth.password_validation.UserAttributeSimilarityValidator'},
    {'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator'},
    {'NAME': 'django.contrib.auth.password_validation.CommonPasswordValidator'},
    {'NAME': 'django.contrib.auth.password_validation.NumericPasswordValidator'},
]
LOGIN_URL = 'itsm:login'
LOGIN_REDIRECT_URL = 'itsm:home'
LOGOUT_REDIRECT_URL = 'itsm:login'

# ---------------------------------------------------------------------------------- i18n and time
LANGUAGE_CODE = 'en-us'
TIME_ZONE = os.environ.get('TIME_ZONE', 'UTC')
USE_I18N = True
USE_TZ = True
# The one format of every time and date shown (Django date-format characters; T is the zone's abbreviation), in
# the person's time zone (itsm.timezones): pages, inputs' hints, e-mails and chart labels.
DATETIME_DISPLAY_FORMAT = 'j M Y H:i T'
DATE_DISPLAY_FORMAT = 'j M Y'

# --------------------------------------------------------------------------------- static and media
STATIC_URL = '/static/'
STATIC_ROOT = Path(os.environ.get('STATIC_ROOT', BASE_DIR / 'staticfiles'))
STATICFILES_DIRS = [BASE_DIR / 'static']
MEDIA_URL = '/media/'
MEDIA_ROOT = Path(os.environ.get('MEDIA_ROOT', VAR_DIR / 'media'))
STORAGES = {
    'default': {'BACKEND': 'django.core.files.storage.FileSystemStorage'},
    'staticfiles': {
        'BACKEND': 'whitenoise.storage.CompressedManifestStaticFilesStorage'
        if env_bool('STATIC_MANIFEST', not DEBUG)
        else 'django.contrib.staticfiles.storage.StaticFilesStorage'
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not env_bool('STATIC_MANIFEST', not DEBUG)

# ------------------------------------------------------------------------------------------ e-mail
EMAIL_BACKEND = os.environ.get(
    'EMAIL_BACKEND',
    'django.core.mail.backends.filebased.EmailBackend' if DEBUG else 'django.core.mail.backends.smtp.EmailBackend',
)
EMAIL_FILE_PATH = VAR_DIR / 'mail'
EMAIL_HOST = os.environ.get('EMAIL_HOST', 'localhost')
EMAIL_PORT = env_int('EMAIL_PORT', 25)
EMAIL_HOST_USER = os.environ.get('EMAIL_HOST_USER', '')
EMAIL_HOST_PASSWORD = os.environ.get('EMAIL_HOST_PASSWORD', '')
EMAIL_USE_TLS = env_bool('EMAIL_USE_TLS', False)
EMAIL_USE_SSL = env_bool('EMAIL_USE_SSL', False)
EMAIL_TIMEOUT = env_int('EMAIL_TIMEOUT', 30)
DEFAULT_FROM_EMAIL = os.environ.get('DEFAULT_FROM_EMAIL', 'Pitcrew Service Desk <servicedesk@localhost>')
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The notification outbox (itsm.notify): how long a new row waits for its own task before the sweep delivers it,
# the first retry's delay (doubled each time, at most an hour), attempts before giving up, and how long sent rows
# are kept.
NOTIFY_OUTBOX_GRACE_SECONDS = env_int('NOTIFY_OUTBOX_GRACE_SECONDS', 30)
NOTIFY_RETRY_SECONDS = env_int('NOTIFY_RETRY_SECONDS', 60)
NOTIFY_MAX_ATTEMPTS = env_int('NOTIFY_MAX_ATTEMPTS', 8)
NOTIFY_OUTBOX_RETENTION_DAYS = env_int('NOTIFY_OUTBOX_RETENTION_DAYS', 30)

# ---------------------------------------------------------------------------------------------- API
# Reverse proxies in front of the desk that append to X-Forwarded-For (0: none; clients are then told apart by the
# connection's address, whatever header they send). Rate limits and the sign-in guard read it.
TRUSTED_PROXY_COUNT = env_int('TRUSTED_PROXY_COUNT', 0)
# Sign-in guard (itsm.signin): attempts per account and per client address within the window, on the sign-in page
# and the API's token exchange alike.
SIGNIN_ACCOUNT_FAILURES = env_int('SIGNIN_ACCOUNT_FAILURES', 5)
SIGNIN_ADDRESS_FAILURES = env_int('SIGNIN_ADDRESS_FAILURES', 20)
SIGNIN_FAILURE_WINDOW_SECONDS = env_int('SIGNIN_FAILURE_WINDOW_SECONDS', 15 * 60)

REST_FRAMEWORK = {
    'DEFAULT_AUTHENTICATION_CLASSES': [
        'itsm.api.auth.ApiTokenAuthentication',
        'rest_framework.authentication.SessionAuthentication',
    ],
    'DEFAULT_PERMISSION_CLASSES': ['itsm.permissions.RolePermission'],
    'DEFAULT_PARSER_CLASSES': [
        'itsm.api.parsers.JSONParser',
        'rest_framework.parsers.FormParser',
        'rest_framework.parsers.MultiPartParser',
    ],
    'DEFAULT_FILTER_BACKENDS': ['itsm.api.filtering.StrictFilterBackend'],
    'DEFAULT_PAGINATION_CLASS': 'itsm.api.pagination.StandardPagination',
    'DEFAULT_SCHEMA_CLASS': 'drf_spectacular.openapi.AutoSchema',
    'EXCEPTION_HANDLER': 'itsm.api.errors.exception_handler',
    'DEFAULT_THROTTLE_CLASSES': [
        'itsm.api.throttling.AnonRateThrottle',
        'itsm.api.throttling.UserRateThrottle',
        'itsm.api.throttling.TokenRateThrottle',
    ],
    'DEFAULT_THROTTLE_RATES': {
        'anon': os.environ.get('API_THROTTLE_ANON', '60/minute'),
        'user': os.environ.get('API_THROTTLE_USER', '6000/minute'),
        'login': os.environ.get('API_THROTTLE_LOGIN', '20/minute'),
        # Each API token on its own, besides its owner's `user` rate.
        'token': os.environ.get('API_THROTTLE_TOKEN', '3000/minute'),
    },
    'TEST_REQUEST_DEFAULT_FORMAT': 'json',
    # Rate limits count clients by address: X-Forwarded-For is believed only as far as the trusted proxies.
    'NUM_PROXIES': TRUSTED_PROXY_COUNT,
}
# API tokens (itsm.tokens): a new token lives API_TOKEN_DEFAULT_DAYS unless its owner picks another expiry, at most
# API_TOKEN_MAX_DAYS. A POST's Idempotency-Key answer is replayed for IDEMPOTENCY_KEY_HOURS.
API_TOKEN_DEFAULT_DAYS = env_int('API_TOKEN_DEFAULT_DAYS', 90)
API_TOKEN_MAX_DAYS = env_int('API_TOKEN_MAX_DAYS', 365)
IDEMPOTENCY_KEY_HOURS = env_int('IDEMPOTENCY_KEY_HOURS', 24)
SPECTACULAR_SETTINGS = {
    'TITLE': 'Pitcrew API',
    'DESCRIPTION': 'Service desk: incidents, cases, problems, changes, CMDB, SLAs and knowledge.',
    'VERSION': '1',
    'SERVE_INCLUDE_SCHEMA': False,
    'COMPONENT_SPLIT_REQUEST': True,
    # Swagger UI is served from the installed sidecar package: the docs work offline.
    'SWAGGER_UI_DIST': 'SIDECAR',
    'SWAGGER_UI_FAVICON_HREF': 'SIDECAR',
    'REDOC_DIST': 'SIDECAR',
    # Several apps have fields called kind, status or channel with different choices: name each set once.
    'ENUM_NAME_OVERRIDES': {
        'TimelineChannelEnum': 'itsm.choices.Channel',
        'TicketChannelEnum': 'incidents.choices.TicketChannel',
        'TicketKindEnum': 'itsm.choices.TicketKind',
        'TicketStateEnum': 'incidents.choices.TicketState',
        'PendingReasonEnum': 'incidents.choices.PendingReason',
        'ResponseTemplateKindEnum': 'incidents.models.ResponseTemplate.Kind',
        'TimelineKindEnum': 'itsm.choices.TimelineKind',
        'CIStatusEnum': 'cmdb.choices.CIStatus',
        'ServiceKindEnum': 'cmdb.choices.ServiceKind',
        'ServiceStatusEnum': 'cmdb.choices.ServiceStatus',
        'ClockKindEnum': 'sla.choices.ClockKind',
        'ClockStateEnum': 'sla.choices.ClockState',
        'ProblemStateEnum': 'problems.choices.ProblemState',
        'CandidateStatusEnum': 'problems.choices.CandidateStatus',
        'RiskLevelEnum': 'changes.choices.RiskLevel',
        'RiskSignalEnum': 'changes.choices.RiskSignal',
        'CabRouteEnum': 'changes.choices.CabRoute',
        'ChangeStateEnum': 'changes.choices.ChangeState',
        'ChangeTaskStateEnum': 'changes.choices.TaskState',
        'MajorIncidentStateEnum': 'major_incidents.choices.MajorIncidentState',
        'MajorIncidentUpdateStatusEnum': 'major_incidents.choices.UpdateStatus',
        'MajorIncidentCandidateStatusEnum': 'major_incidents.choices.CandidateStatus',
        'MajorIncidentValidationRoleEnum': 'major_incidents.choices.ValidationRole',
        'RaciRoleEnum': 'cmdb.choices.RaciRole',
        'ArticleStateEnum': 'knowledge.choices.ArticleState',
        'ArticleTypeEnum': 'knowledge.choices.ArticleType',
        'ArticleAudienceEnum': 'knowledge.choices.Audience',
        'MajorIncidentUpdateAudienceEnum': 'major_incidents.choices.UpdateAudience',
        'InboundMessageOutcomeEnum': 'mailboxes.choices.Outcome',
        'ChangeOutcomeEnum': 'changes.choices.ChangeOutcome',
        'MailboxSecurityEnum': 'mailboxes.choices.Security',
        'MailboxAfterProcessingEnum': 'mailboxes.choices.AfterProcessing',
        'MailboxUnknownSendersEnum': 'mailboxes.choices.UnknownSenders',
        'MonitoringAlertStatusEnum': 'monitoring.choices.AlertStatus',
        'AlertmanagerStatusEnum': 'monitoring.choices.AlertmanagerStatus',
        'MonitoringSourceKindEnum': 'monitoring.choices.SourceKind',
        'MonitoringDedupByEnum': 'monitoring.choices.DedupBy',
        'MonitoringEventActionEnum': 'monitoring.choices.EventAction',
        'WebhookDeliveryStatusEnum': 'webhooks.choices.DeliveryStatus',
        'WebhookEventTypeEnum': 'webhooks.choices.EventType',
        'PredictionLevelEnum': 'predictions.choices.ProfileLevel',
    },
}

# ------------------------------------------------------------------------------------------ logging
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {'plain': {'format': '%(asctime)s %(levelname)s %(name)s: %(message)s'}},
    'filters': {'client_errors_without_traceback': {'()': 'itsm.logs.ClientErrorsWithoutTraceback'}},
    'handlers': {
        'console': {
            'class': 'logging.StreamHandler',
            'formatter': 'plain',
            'filters': ['client_errors_without_traceback'],
        }
    },
    'root': {'handlers': ['console'], 'level': os.environ.get('LOG_LEVEL', 'INFO')},
    'loggers': {
        # Django's own console handler would print each request log a second time: one handler, the root's.
        'django': {'handlers': [], 'level': os.environ.get('LOG_LEVEL', 'INFO'), 'propagate': True},
        'django.db.backends': {'level': 'INFO'},
    },
}

# ------------------------------------------------------------------------------------------ product
# Completed tickets close by themselves after this many days without an answer from the caller.
INCIDENT_AUTO_CLOSE_DAYS = env_int('INCIDENT_AUTO_CLOSE_DAYS', 5)
ATTACHMENT_MAX_BYTES = env_int('ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024)
# inbound e-mail (mailboxes app): messages read per mailbox and poll, files kept per message, IMAP timeout in
# seconds, and a CA bundle for servers with a private certificate authority (empty: the system's).
MAILBOX_POLL_BATCH = env_int('MAILBOX_POLL_BATCH', 100)
MAILBOX_MAX_ATTACHMENTS = env_int('MAILBOX_MAX_ATTACHMENTS', 10)
MAILBOX_IMAP_TIMEOUT = env_int('MAILBOX_IMAP_TIMEOUT', 30)
MAILBOX_CA_FILE = os.environ.get('MAILBOX_CA_FILE', '')
# Edits to production CIs need an approved change reference when this is on.
CMDB_REQUIRE_CHANGE_FOR_PRODUCTION = env_bool('CMDB_REQUIRE_CHANGE_FOR_PRODUCTION', False)
# Which changes cover such a write: with the changes app, a change in implementation that lists the CI.
CMDB_CHANGE_VALIDATOR = os.environ.get('CMDB_CHANGE_VALIDATOR') or (
    'changes.cmdb_control.change_covers' if 'changes' in INSTALLED_APPS else 'cmdb.checks.is_change_reference'
)
# Problem candidates (problems.candidates): the recurrence scan reads the incidents opened in the last WINDOW_DAYS,
# proposes clusters of at least MIN_SIZE, and proposes a dismissed cluster again once it has grown by REGROW_FACTOR
# past its size at dismissal. Short descriptions count as similar from SIMILARITY (trigram similarity, 0 to 1);
# the text comparison reads at most TEXT_LIMIT incidents of the window, the latest.
PROBLEM_CANDIDATE_WINDOW_DAYS = env_int('PROBLEM_CANDIDATE_WINDOW_DAYS', 30)
PROBLEM_CANDIDATE_MIN_SIZE = env_int('PROBLEM_CANDIDATE_MIN_SIZE', 3)
PROBLEM_CANDIDATE_REGROW_FACTOR = float(os.environ.get('PROBLEM_CANDIDATE_REGROW_FACTOR') or 2.0)
PROBLEM_CANDIDATE_SIMILARITY = float(os.environ.get('PROBLEM_CANDIDATE_SIMILARITY') or 0.6)
PROBLEM_CANDIDATE_TEXT_LIMIT = env_int('PROBLEM_CANDIDATE_TEXT_LIMIT', 5000)
# Change calendar: two changes overlapping in time conflict on the same CI or on CIs related within this many steps
# of the CMDB graph (either direction); a calendar or API range spans at most MAX_DAYS.
# Major incidents (domain §6). A P0/P1 incident on a critical service is a candidate at once; so are incidents when
# FLOOD_COUNT of them arrive on one service or CI within FLOOD_MINUTES.
MAJOR_CANDIDATE_FLOOD_COUNT = env_int('MAJOR_CANDIDATE_FLOOD_COUNT', 5)
MAJOR_CANDIDATE_FLOOD_MINUTES = env_int('MAJOR_CANDIDATE_FLOOD_MINUTES', 15)
# Update cadence in minutes by priority (other priorities use the last); once the outage has run LONG_OUTAGE_HOURS
# the communications lead may stretch the interval, but never beyond a day.
MAJOR_UPDATE_CADENCE_MINUTES = {0: 30, 1: 60, 2: 120}
MAJOR_LONG_OUTAGE_HOURS = env_int('MAJOR_LONG_OUTAGE_HOURS', 8)
MAJOR_MAX_UPDATE_INTERVAL_MINUTES = 24 * 60
# Senior staff told about every major incident, besides people holding the manager role.
MAJOR_SENIOR_STAFF_ADDRESSES = [a for a in os.environ.get('MAJOR_SENIOR_STAFF_ADDRESSES', '').split(',') if a.strip()]
STATUS_PAGE_TITLE = os.environ.get('STATUS_PAGE_TITLE', 'Service status')
STATUS_PAGE_HISTORY_DAYS = 90
CHANGE_CONFLICT_DEPTH = env_int('CHANGE_CONFLICT_DEPTH', 1)
CHANGE_CALENDAR_MAX_DAYS = env_int('CHANGE_CALENDAR_MAX_DAYS', 93)
# Knowledge (domain §12): a published article's owner reviews it within this many months of publishing.
KNOWLEDGE_REVIEW_MONTHS = env_int('KNOWLEDGE_REVIEW_MONTHS', 12)
# outbound webhooks: each POST waits at most TIMEOUT_SECONDS; a failed delivery is tried again after
# BACKOFF_SECONDS, doubling each time up to BACKOFF_MAX_SECONDS, MAX_ATTEMPTS tries in all; a subscription whose
# deliveries fail DISABLE_AFTER times in a row (or one gives up) is disabled. HTTPS_ONLY refuses http:// URLs.
WEBHOOK_TIMEOUT_SECONDS = env_int('WEBHOOK_TIMEOUT_SECONDS', 10)
WEBHOOK_MAX_ATTEMPTS = env_int('WEBHOOK_MAX_ATTEMPTS', 8)
WEBHOOK_BACKOFF_SECONDS = env_int('WEBHOOK_BACKOFF_SECONDS', 60)
WEBHOOK_BACKOFF_MAX_SECONDS = env_int('WEBHOOK_BACKOFF_MAX_SECONDS', 6 * 3600)
WEBHOOK_DISABLE_AFTER = env_int('WEBHOOK_DISABLE_AFTER', 10)
WEBHOOK_HTTPS_ONLY = env_bool('WEBHOOK_HTTPS_ONLY', False)
# monitoring alerts: the flap window new sources start with (minutes); the most alerts one request may carry
# (Alertmanager's webhook sends at most its max_alerts); tickets the monitoring resolves get this resolution code.
MONITORING_FLAP_WINDOW_MINUTES = env_int('MONITORING_FLAP_WINDOW_MINUTES', 30)
MONITORING_MAX_ALERTS_PER_REQUEST = env_int('MONITORING_MAX_ALERTS_PER_REQUEST', 500)
MONITORING_RESOLUTION_CODE = os.environ.get('MONITORING_RESOLUTION_CODE', 'solved_remotely')
# predictive SLA warnings (sla.forecast): a group's throughput over its last business hours, the least throughput
# assumed for an idle group (tickets per business hour), and how far before the due time a forecast must land to
# lift a flag again (minutes).
SLA_FORECAST_WINDOW_HOURS = float(os.environ.get('SLA_FORECAST_WINDOW_HOURS', '40'))
SLA_FORECAST_MIN_RATE = float(os.environ.get('SLA_FORECAST_MIN_RATE', '0.1'))
SLA_FORECAST_CLEAR_MINUTES = env_int('SLA_FORECAST_CLEAR_MINUTES', 30)
# SLA warnings and breaches whose e-mail has not gone out this long after they were recorded (the worker died, the
# task was lost) are queued again by the next sweep (seconds).
SLA_NOTIFY_GRACE_SECONDS = env_int('SLA_NOTIFY_GRACE_SECONDS', 120)
PITCREW_VERSION = '0.1.0'

# Predicted resolution times (predictions/): profiles are built from the tickets completed in the last WINDOW_DAYS;
# a similarity level serves a prediction from MINIMUM_SAMPLES tickets (broader levels below that). The beat's
# `predictions-profiles` (itsm/celery.py, PREDICTION_PROFILE_SECONDS) rebuilds them and refreshes the predictions.
PREDICTION_WINDOW_DAYS = env_int('PREDICTION_WINDOW_DAYS', 180)
PREDICTION_MINIMUM_SAMPLES = env_int('PREDICTION_MINIMUM_SAMPLES', 20)

# Hypercare (hypercare/): the sweep that starts and ends periods runs every SWEEP_SECONDS (`hypercare-sweep`); each
# running period's daily summary goes to its service owner from SUMMARY_HOUR (desk time) on, once per day
# (`hypercare-daily-summary`, checked every SUMMARY_SECONDS).
HYPERCARE_SWEEP_SECONDS = env_int('HYPERCARE_SWEEP_SECONDS', 300)
HYPERCARE_SUMMARY_HOUR = env_int('HYPERCARE_SUMMARY_HOUR', 8)
HYPERCARE_SUMMARY_SECONDS = env_int('HYPERCARE_SUMMARY_SECONDS', 900)

# On-call paging (oncall/): minutes a level waits for an acknowledgement when the group has no escalation policy,
# how long an acknowledge link in a page stays valid, and the priorities of incidents that page (0 = P0, 1 = P1).
ONCALL_DEFAULT_ESCALATION_MINUTES = env_int('ONCALL_DEFAULT_ESCALATION_MINUTES', 15)
ONCALL_ACK_LINK_HOURS = env_int('ONCALL_ACK_LINK_HOURS', 24)
ONCALL_PAGE_PRIORITIES = tuple(int(p) for p in os.environ.get('ONCALL_PAGE_PRIORITIES', '0,1').split(',') if p.strip())
