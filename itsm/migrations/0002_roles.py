"""Seed the role groups of domain §14 (their permissions are synced after every migrate, see itsm.roles)."""

from django.db import migrations

ROLE_SLUGS = [
    'requester',
    'service_desk_agent',
    'l2_engineer',
    'l3_engineer',
    'incident_manager',
    'problem_manager',
    'change_manager',
    'cab_member',
    'service_owner',
    'business_owner',
    'knowledge_manager',
    'manager',
    'administrator',
    'integration',
]


def create_roles(apps, schema_editor):
    Group = apps.get_model('auth', 'Group')
    for slug in ROLE_SLUGS:
        Group.objects.get_or_create(name=slug)


class Migration(migrations.Migration):
    dependencies = [('itsm', '0001_initial'), ('auth', '0012_alter_user_first_name_max_length')]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
