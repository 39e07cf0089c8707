"""Shared helpers of the import tests: the fixture files and running the command."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.core.management import CommandError, call_command

DATA = Path(__file__).resolve().parent / 'data'
SERVICENOW_EXCERPT = DATA / 'servicenow_excerpt.csv'
JSM_EXPORT = DATA / 'jsm_export.csv'


def utc(text: str) -> dt.datetime:
    """'2016-02-29 01:16' as an aware UTC time (the ServiceNow mapping reads the log as UTC)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def run_import(path, *args: str) -> tuple[str, str, CommandError | None]:
    """Run `import_incidents`; returns its stdout, stderr and the CommandError it ended with, if any."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command('import_incidents', str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None
