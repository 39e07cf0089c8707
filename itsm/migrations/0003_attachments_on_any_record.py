# Files on any process record (incidents, problems, changes, ...), not on tickets alone.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import itsm.models


class Migration(migrations.Migration):
    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('itsm', '0002_roles'),
    ]

    operations = [
        migrations.CreateModel(
            name='Attachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('object_id', models.PositiveBigIntegerField()),
                ('file', models.FileField(max_length=300, upload_to=itsm.models.attachment_path)),
                ('filename', models.CharField(max_length=200)),
                ('mime_type', models.CharField(max_length=100)),
                ('size', models.PositiveIntegerField()),
                ('public', models.BooleanField(default=True, help_text='Visible to the requester in the portal.')),
                (
                    'content_type',
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'
                    ),
                ),
                (
                    'uploaded_by',
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(fields=['content_type', 'object_id', 'created_at'], name='attachment_record')],
            },
        ),
    ]
