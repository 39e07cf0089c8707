"""Settings for the test suite: the production settings module with test-only environment defaults.

Tests follow the same code paths as production (DEBUG off); only secrets, TLS redirects and the static manifest
(which would need `collectstatic`) get harmless defaults, and tasks run eagerly unless a test starts a worker.
"""

import os
from pathlib import Path

os.environ.setdefault('SECRET_KEY', 'test-only-secret-key-5f0c6a1e9b7d4c2a8e3f1b0d9c8a7e6f5d4c3b2a1')
os.environ.setdefault('HTTPS', 'false')
os.environ.setdefault('STATIC_MANIFEST', 'false')
os.environ.setdefault('DEBUG', 'false')
os.environ.setdefault('LOG_LEVEL', 'WARNING')

# Parallel test processes (pytest-xdist) each get their own broker, results and cache, so a worker started by a
# test in one process never takes the tasks of a test in another: a Redis database, or a folder, per process.
_process = os.environ.get('PYTEST_XDIST_WORKER', '')
_index = int(_process[2:]) + 1 if _process.startswith('gw') else 0
if os.environ.get('REDIS_URL') and _index:
    os.environ['REDIS_URL'] = f'{os.environ["REDIS_URL"].rsplit("/", 1)[0]}/{_index}'
# The folder they share is remembered apart from VAR_DIR: the xdist workers inherit the controlling process's
# environment, VAR_DIR included, and would otherwise all use its folder.
_default_var = Path(__file__).resolve().parent.parent / 'var'
os.environ.setdefault('PITCREW_TEST_VAR_ROOT', os.environ.get('VAR_DIR') or str(_default_var))
os.environ['VAR_DIR'] = str(Path(os.environ['PITCREW_TEST_VAR_ROOT']) / f'test-{_process or "main"}')

from itsm.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']
CELERY_TASK_ALWAYS_EAGER = True
REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] = {'anon': '100000/minute', 'user': '100000/minute', 'login': '100000/minute'}  # noqa: F405

# Whitenoise serves from the finders in tests; an empty STATIC_ROOT keeps it from warning about a missing folder.
STATIC_ROOT = VAR_DIR / 'test-static'  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The live server answers each request in a thread of its own. On an in-memory SQLite database those threads would
# share the test's one connection (Django's documented caveat for LiveServerTestCase), so two requests' transactions
# could interleave on it and one could undo or hide the other's. A file (WAL, as in production) gives each thread its
# own connection. Each test process has its own VAR_DIR, so its own file.
if not IS_POSTGRES and not DATABASES['default']['TEST']['NAME']:  # noqa: F405
    DATABASES['default']['TEST']['NAME'] = str(VAR_DIR / 'test.sqlite3')  # noqa: F405
