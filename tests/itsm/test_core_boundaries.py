"""The core imports no app: process apps build on `itsm`, never the other way round.

The project wiring (settings, the root URL configuration, the Celery app with its beat schedule) names the apps by
design; every other module of the core must not import one.
"""

import ast
from pathlib import Path

from django.conf import settings

CORE = Path(settings.BASE_DIR) / 'itsm'
WIRING = {'settings.py', 'urls.py', 'celery.py', 'api/urls.py', 'wsgi.py', 'asgi.py'}
APPS = {
    'cmdb',
    'knowledge',
    'sla',
    'incidents',
    'problems',
    'changes',
    'major_incidents',
    'statuspage',
    'reports',
    'imports',
    'synthetic',
    'inbox',
    'mailboxes',
    'monitoring',
    'webhooks',
    'oncall',
    'hypercare',
    'predictions',
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split('.')[0])
    return roots


def test_core_modules_import_no_app():
    offenders = {}
    for path in sorted(CORE.rglob('*.py')):
        relative = path.relative_to(CORE).as_posix()
        if relative in WIRING or '/migrations/' in f'/{relative}':
            continue
        found = imported_roots(path) & APPS
        if found:
            offenders[relative] = sorted(found)
    assert offenders == {}


def test_the_check_sees_an_import_of_an_app(tmp_path):
    module = tmp_path / 'example.py'
    module.write_text('import os\nfrom incidents.models import Ticket\n\ndef f():\n    import sla.services\n')
    assert imported_roots(module) & APPS == {'incidents', 'sla'}
