"""A fresh desk starts with a risk questionnaire, its bands and the rules that raise the level from the CMDB and the
live desk (data the change manager edits afterwards). Nothing is added where any of them already exist."""

from django.db import migrations

QUESTIONS = [
    (
        'Has a change like this been carried out successfully before?',
        '',
        [('Yes, several times', 0), ('Once or twice', 1), ('Never', 3)],
    ),
    (
        'Does the change need a service outage?',
        '',
        [('No', 0), ('Yes, inside an agreed maintenance window', 1), ('Yes, outside a maintenance window', 3)],
    ),
    (
        'How many people could be affected if it fails?',
        'The widest group that would lose or notice the service.',
        [('A few people', 0), ('A department or a site', 2), ('The whole organisation', 4)],
    ),
    (
        'Has the change been tested outside production?',
        '',
        [('Yes, fully', 0), ('Partly', 1), ('No', 3)],
    ),
    (
        'Can it be backed out within the planned window?',
        '',
        [('Yes, and the backout was tested', 0), ('Yes, not tested', 1), ('No', 3)],
    ),
]
BANDS = [(0, 'low'), (4, 'moderate'), (8, 'high'), (12, 'very_high')]
RULES = [
    ('Open incidents on what the change touches', 'open_incidents', 1, 'moderate'),
    ('Several open incidents on what the change touches', 'open_incidents', 3, 'high'),
    ('Major-incident candidates on what the change touches', 'major_incidents', 1, 'high'),
    ('SLA clocks at risk on what the change touches', 'clocks_at_risk', 1, 'moderate'),
    ('Failed changes on the same CIs lately', 'failed_changes', 1, 'high'),
    ('Changes overlapping on the same or related CIs', 'overlapping_changes', 1, 'moderate'),
    ('Many services reached downstream', 'downstream_services', 5, 'high'),
]


def add_defaults(apps, schema_editor):
    RiskQuestion = apps.get_model('changes', 'RiskQuestion')
    RiskAnswer = apps.get_model('changes', 'RiskAnswer')
    RiskBand = apps.get_model('changes', 'RiskBand')
    RiskRule = apps.get_model('changes', 'RiskRule')
    if not RiskQuestion.objects.exists():
        for position, (text, help_text, answers) in enumerate(QUESTIONS, start=1):
            question = RiskQuestion.objects.create(position=position * 10, text=text, help_text=help_text)
            for order, (label, score) in enumerate(answers, start=1):
                RiskAnswer.objects.create(question=question, position=order * 10, label=label, score=score)
    if not RiskBand.objects.exists():
        RiskBand.objects.bulk_create([RiskBand(min_score=score, level=level) for score, level in BANDS])
    if not RiskRule.objects.exists():
        RiskRule.objects.bulk_create(
            [
                RiskRule(name=name, signal=signal, threshold=threshold, raise_to=level)
                for name, signal, threshold, level in RULES
            ]
        )


class Migration(migrations.Migration):
    dependencies = [('changes', '0001_changes_and_cab')]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
