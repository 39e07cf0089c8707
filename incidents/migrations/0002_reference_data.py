"""Seed the default priority matrix (ceil((i + u) / 2)), categories and communication templates."""

from django.db import migrations

IMPACTS = ['severe', 'high', 'medium', 'low', 'none']
URGENCIES = ['immediate', 'critical', 'urgent', 'normal', 'negotiated']
CATEGORIES = {
    'Hardware': ['Laptop', 'Desktop', 'Printer', 'Mobile device'],
    'Software': ['Application', 'Operating system', 'Installation'],
    'Network': ['LAN', 'WAN', 'VPN', 'Wi-Fi', 'File share'],
    'Email': ['Mailbox', 'Distribution list', 'Spam'],
    'Access': ['Account', 'Password reset', 'Permissions'],
    'Database': ['Performance', 'Backup', 'Data issue'],
    'Security': ['Malware', 'Phishing', 'Data leak'],
    'Inquiry': ['How-to', 'Order status', 'Feedback'],
}
TEMPLATES = [
    ('Greeting', 'opening', 'Hello {caller_name},\n\nthank you for contacting the service desk about {number}.'),
    (
        'Working on it',
        'body',
        'I am {agent_name} from {group} and I am now working on "{short_description}". Expected resolution: {eta}.',
    ),
    ('Need more information', 'body', 'To continue with {number} we need a little more information from you:'),
    ('Sign-off', 'closing', 'Kind regards,\n{agent_name}\n{group}'),
    (
        'Resolved, please confirm',
        'closing',
        'We believe {number} is resolved. Please confirm in the portal, or tell '
        'us what is still wrong.\n\nKind regards,\n{agent_name}',
    ),
]


def seed(apps, schema_editor):
    PriorityMatrixEntry = apps.get_model('incidents', 'PriorityMatrixEntry')
    Category = apps.get_model('incidents', 'Category')
    ResponseTemplate = apps.get_model('incidents', 'ResponseTemplate')
    for i, impact in enumerate(IMPACTS):
        for u, urgency in enumerate(URGENCIES):
            PriorityMatrixEntry.objects.get_or_create(
                impact=impact, urgency=urgency, defaults={'priority': -(-(i + u) // 2)}
            )
    for name, children in CATEGORIES.items():
        parent, _ = Category.objects.get_or_create(name=name, parent=None)
        for child in children:
            Category.objects.get_or_create(name=child, parent=parent)
    for name, kind, text in TEMPLATES:
        ResponseTemplate.objects.get_or_create(name=name, defaults={'kind': kind, 'text': text})


class Migration(migrations.Migration):
    dependencies = [('incidents', '0001_initial')]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
