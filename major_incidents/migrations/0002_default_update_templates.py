"""The update templates a desk starts with: the four public status-page stages, three e-mails to the recipient list
and the team's stand-up notes. Administrators edit them afterwards; reversing removes them by name."""

from django.db import migrations

TEMPLATES = [
    {
        'name': 'Investigating',
        'audience': 'public',
        'status': 'investigating',
        'subject': '{title}',
        'body': (
            'We are aware of a problem affecting {services} and are investigating. '
            'We will post the next update by {next_update}.'
        ),
    },
    {
        'name': 'Identified',
        'audience': 'public',
        'status': 'identified',
        'subject': '{title}',
        'body': (
            'We have found the cause of the problem affecting {services} and are working on a fix. '
            'Next update by {next_update}.'
        ),
    },
    {
        'name': 'Monitoring',
        'audience': 'public',
        'status': 'monitoring',
        'subject': '{title}',
        'body': ('A fix is in place and {services} should work again. We are watching closely to make sure it holds.'),
    },
    {
        'name': 'Resolved',
        'audience': 'public',
        'status': 'resolved',
        'subject': '{title}',
        'body': '{services} work normally again. Thank you for your patience.',
    },
    {
        'name': 'Major incident declared',
        'audience': 'recipients',
        'status': 'investigating',
        'subject': '{number} declared: {title}',
        'body': (
            'A major incident has been declared.\n\n'
            'Affected: {services}\n'
            'Impact: {impact}\n'
            'Incident manager: {incident_manager}\n\n'
            'The response team is working on it. You will hear from us again by {next_update}.'
        ),
    },
    {
        'name': 'Progress update',
        'audience': 'recipients',
        'status': 'identified',
        'subject': '{number} update: {title}',
        'body': (
            'Where we stand: {status}.\n\n'
            'Affected: {services}\n'
            'Impact: {impact}\n\n'
            'What we have done since the last update:\n\n'
            'Next update by {next_update}.'
        ),
    },
    {
        'name': 'Service restored',
        'audience': 'recipients',
        'status': 'resolved',
        'subject': '{number} restored: {title}',
        'body': (
            '{services} work again.\n\n'
            'The service owner and the business owner will confirm that everything works as it should, and a '
            'post-incident review will follow. Thank you for your patience.'
        ),
    },
    {
        'name': 'Stand-up notes',
        'audience': 'internal',
        'status': '',
        'subject': '{number} stand-up',
        'body': (
            'Present:\n\n'
            'Where we stand: {status}\n'
            'Actions since the last stand-up:\n\n'
            'Next actions and who owns them:\n\n'
            'Next public update due: {next_update}'
        ),
    },
]


def add_templates(apps, schema_editor):
    UpdateTemplate = apps.get_model('major_incidents', 'UpdateTemplate')
    for template in TEMPLATES:
        UpdateTemplate.objects.get_or_create(name=template['name'], defaults=template)


def remove_templates(apps, schema_editor):
    UpdateTemplate = apps.get_model('major_incidents', 'UpdateTemplate')
    UpdateTemplate.objects.filter(name__in=[t['name'] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [('major_incidents', '0001_major_incidents')]

    operations = [migrations.RunPython(add_templates, remove_templates)]
