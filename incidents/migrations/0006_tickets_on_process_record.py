# Tickets on the process-record kit: their files move to itsm.Attachment, which serves any record.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_attachments(apps, schema_editor):
    Old = apps.get_model('incidents', 'Attachment')
    New = apps.get_model('itsm', 'Attachment')
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not Old.objects.exists():
        return
    ticket_type, _ = ContentType.objects.get_or_create(app_label='incidents', model='ticket')
    rows = Old.objects.order_by('pk').iterator(chunk_size=2000)
    batch = []
    for old in rows:
        batch.append(
            New(
                content_type_id=ticket_type.pk,
                object_id=old.ticket_id,
                file=old.file.name,
                filename=old.filename,
                mime_type=old.content_type,
                size=old.size,
                uploaded_by_id=old.uploaded_by_id,
                public=old.public,
                created_at=old.created_at,
                updated_at=old.updated_at,
            )
        )
        if len(batch) >= 2000:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('incidents', '0005_ticket_accepted_index'),
        ('itsm', '0003_attachments_on_any_record'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='ticket',
            name='assignee',
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name='%(class)ss_assigned',
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='assignment_group',
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name='%(class)ss',
                to='itsm.supportgroup',
            ),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='opened_by',
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name='%(class)ss_opened',
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(move_attachments, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='Attachment',
        ),
    ]
