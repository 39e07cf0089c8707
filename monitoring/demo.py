"""Demo monitoring: an Alertmanager source for Server and Storage with the demo's monitoring user, one alert still
firing on vm-web-01 (its incident waits for the group) and one that fired and resolved by itself.

Idempotent: nothing is added while the demo source exists. Needs the core people and groups and the CMDB estate.
"""

from __future__ import annotations

from django.db import transaction

from itsm.audit import Actor
from itsm.choices import Channel
from itsm.models import SupportGroup, User

from . import services
from .choices import SourceKind
from .models import AlertSource

SOURCE_NAME = 'Prometheus (demo)'


def load(log=print) -> None:
    if AlertSource.objects.filter(name=SOURCE_NAME).exists():
        return
    admin = User.objects.filter(username='admin').first()
    bot = User.objects.filter(username='monitoring').first()
    group = SupportGroup.objects.filter(name='Server and Storage').first()
    if admin is None or bot is None or group is None:
        log('monitoring: the core demo people and groups are missing, nothing loaded')
        return
    with transaction.atomic():
        source = services.source_create(
            actor=Actor(user=admin, channel=Channel.UI),
            name=SOURCE_NAME,
            kind=SourceKind.ALERTMANAGER,
            support_group=group,
            integration_user=bot,
        )
        labels = {'alertname': 'HighLatency', 'instance': 'vm-web-01:9100', 'job': 'node', 'severity': 'warning'}
        services.alert_trigger(
            source=source,
            dedup_key='demo-high-latency-vm-web-01',
            summary='HTTP latency above 2 s on vm-web-01',
            severity='warning',
            description='The 95th percentile of request latency has been above 2 s for 10 minutes.',
            details=labels,
            ci_names=services.ci_names_of(labels),
        )
        services.alert_trigger(
            source=source,
            dedup_key='demo-disk-srv-backup-01',
            summary='Disk /var above 90 % on srv-backup-01',
            severity='warning',
            details={'alertname': 'DiskFilling', 'instance': 'srv-backup-01:9100', 'severity': 'warning'},
            ci_names=['srv-backup-01'],
        )
        services.alert_resolve(source=source, dedup_key='demo-disk-srv-backup-01')
    log(f'monitoring: source "{SOURCE_NAME}" with two alerts')
