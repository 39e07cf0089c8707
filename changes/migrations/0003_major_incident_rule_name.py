"""The default risk rule on major incidents reads open major-incident records now, so its name says so."""

from django.db import migrations

OLD = 'Major-incident candidates on what the change touches'
NEW = 'Open major incidents on what the change touches'


def rename(old, new):
    def run(apps, schema_editor):
        apps.get_model('changes', 'RiskRule').objects.filter(name=old).update(name=new)

    return run


class Migration(migrations.Migration):
    dependencies = [('changes', '0002_default_risk_questionnaire')]

    operations = [migrations.RunPython(rename(OLD, NEW), rename(NEW, OLD))]
