"""The OpenAPI schema is generated whole: no warnings (each enum named once, every view typed) and valid."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / 'schema.yml'
    call_command('spectacular', '--file', str(target), '--validate', '--fail-on-warn')
    text = target.read_text()
    assert '/api/v1/problems/{number}/resolve/' in text
    assert 'ProblemStateEnum' in text and 'TicketStateEnum' in text
