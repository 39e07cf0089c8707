"""Demo data of change management: the CABs and the default CAB rules (`changes.cab.load_demo`), the
standard-change catalogue (three pre-approved models with their tasks) and changes in different states, drafted
and worked through the services so each has a real history. Idempotent: a model is looked up by its name, a change
by its short description."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel
from itsm.models import SupportGroup, User

from . import cab, services
from .choices import ChangeOutcome, ChangeState, ChangeType, RiskLevel
from .models import Change, ChangeModel, ChangeModelTask

S = ChangeState

# (name, risk, group, description, implementation, backout, test, [(task, group)])
CATALOGUE = [
    (
        'Renew a TLS certificate on a load balancer',
        RiskLevel.LOW,
        'Network Operations',
        'Replace a certificate that expires within 30 days with one from the internal CA.',
        'Import the new certificate and key, bind it to the listener, reload the listener.',
        'Bind the previous certificate again and reload.',
        'Check the chain and expiry from outside with the TLS probe.',
        [('Request the certificate from the internal CA', 'Network Operations'), ('Bind and reload', None)],
    ),
    (
        'Apply the monthly OS patches to a Windows server',
        RiskLevel.LOW,
        'Server and Storage',
        'The monthly cumulative update in the agreed maintenance window.',
        'Snapshot, install the cumulative update, reboot, check the services.',
        'Revert to the snapshot taken before patching.',
        'The server answers and its services run; no new errors in the event log.',
        [('Take a snapshot', None), ('Install the update and reboot', None), ('Check services and event log', None)],
    ),
    (
        'Add a DNS record in an internal zone',
        RiskLevel.LOW,
        'Network Operations',
        'A new A or CNAME record in one of the internal zones.',
        'Add the record through the IPAM.',
        'Delete the record.',
        'Resolve the name from two sites.',
        [('Add the record', None), ('Resolve it from Frankfurt and Munich', None)],
    ),
]

# Changes: what, where, who, and how far they got.
CHANGES = [
    {
        'short_description': 'Upgrade the VPN gateway firmware to 7.4',
        'change_type': ChangeType.NORMAL,
        'cis': ['vpn-gw-01'],
        'services': ['VPN'],
        'group': 'Network Operations',
        'requester': 'l2net',
        'justification': 'Firmware 7.2 is out of support and drops idle tunnels (see the VPN problem).',
        'implementation_plan': 'Fail over to the standby unit, upgrade it, fail back, upgrade the primary.',
        'backout_plan': 'Boot the previous firmware image kept on the second partition.',
        'test_plan': 'Connect from home with the standard client; keep a session idle for 30 minutes.',
        'days': 9,
        'state': S.DRAFT,
    },
    {
        'short_description': 'Move the file shares to the new storage array',
        'change_type': ChangeType.NORMAL,
        'cis': ['srv-file-01'],
        'services': [],
        'group': 'Server and Storage',
        'requester': 'l2',
        'justification': 'The old array reaches the end of its support contract next quarter.',
        'implementation_plan': 'Copy the shares with robocopy, switch the DFS targets at night, keep the old copy.',
        'backout_plan': 'Point the DFS targets back at the old array.',
        'test_plan': 'Open, write and delete a file on each share from two sites.',
        'days': 14,
        'state': S.SUBMITTED,
    },
    {
        'short_description': 'Renew the certificate of the customer portal',
        'change_type': ChangeType.STANDARD,
        'model': 'Renew a TLS certificate on a load balancer',
        'cis': [],
        'services': [],
        'group': 'Network Operations',
        'requester': 'l2net',
        'days': 3,
        'state': S.SCHEDULED,
    },
    {
        'short_description': 'Apply the December patches to the domain controller',
        'change_type': ChangeType.STANDARD,
        'model': 'Apply the monthly OS patches to a Windows server',
        'cis': ['srv-dc-01'],
        'services': [],
        'group': 'Server and Storage',
        'requester': 'l2',
        'days': -6,
        'state': S.CLOSED,
    },
]


def _items(names: list[str], *, services_only: bool = False) -> list:
    from cmdb.models import ConfigurationItem

    items = ConfigurationItem.objects.filter(name__in=names)
    return list(items.filter(ci_class='service') if services_only else items.exclude(ci_class='service'))


def _catalogue(actor: Actor, groups: dict[str, SupportGroup]) -> int:
    created = 0
    for name, risk, group, description, implementation, backout, test, tasks in CATALOGUE:
        if ChangeModel.objects.filter(name=name).exists():
            continue
        model = ChangeModel.objects.create(
            name=name,
            risk_level=risk,
            assignment_group=groups.get(group),
            description=description,
            implementation_plan=implementation,
            backout_plan=backout,
            test_plan=test,
        )
        for position, (title, task_group) in enumerate(tasks, start=1):
            ChangeModelTask.objects.create(
                change_model=model, position=position * 10, title=title, assignment_group=groups.get(task_group or '')
            )
        created += 1
    return created


def _walk(change: Change, target: str, manager: Actor, engineer: Actor) -> Change:
    """Drive the change to `target` through the services, as its engineer and the change manager would."""
    if target == S.DRAFT:
        return change
    change = services.change_submit(change=change, actor=engineer, note='Ready for assessment.')
    if target == S.SUBMITTED:
        return change
    change = services.change_assess(change=change, actor=manager)
    if change.cab_route != 'skip':
        return change  # the CAB decides in its meeting
    change = services.change_schedule(change=change, actor=manager)
    if target == S.SCHEDULED:
        return change
    change = services.change_record_tests(
        change=change, actor=engineer, test_results='Rehearsed on the staging copy: all green.', tests_passed=True
    )
    change = services.change_start(change=change, actor=engineer)
    for task in change.tasks.all():
        services.task_finish(changetask=task, actor=engineer, note='Done.')
    change = services.change_complete(change=Change.objects.get(pk=change.pk), actor=engineer)
    return services.change_close(
        change=change, actor=manager, outcome=ChangeOutcome.SUCCESSFUL, review_notes='Went as planned.'
    )


def load(log=print) -> None:
    cab.load_demo(log=log)
    load_changes(log=log)


@transaction.atomic
def load_changes(log=print) -> None:
    system = Actor.system()
    groups = {group.name: group for group in SupportGroup.objects.all()}
    models = _catalogue(system, groups)
    users = {user.username: user for user in User.objects.filter(username__in=['change.manager', 'l2', 'l2net'])}
    if 'change.manager' not in users:
        log(f'changes: {models} change models created; no demo change manager, load the core demo data first')
        return
    manager = Actor(user=users['change.manager'], channel=Channel.UI)
    created = 0
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for spec in CHANGES:
        if Change.objects.filter(short_description=spec['short_description']).exists():
            continue
        engineer_user = users.get(spec['requester'])
        engineer = Actor(user=engineer_user, channel=Channel.UI) if engineer_user else system
        start = now + dt.timedelta(days=spec['days'], hours=20 - now.hour)
        model = ChangeModel.objects.filter(name=spec.get('model', '')).first()
        closed = spec['state'] == S.CLOSED
        change = services.change_create(
            actor=engineer,
            short_description=spec['short_description'],
            change_type=spec['change_type'],
            change_model=model,
            owner=users['change.manager'],
            assignment_group=groups.get(spec['group']),
            cis=_items(spec['cis']),
            services=_items(spec['services'], services_only=True),
            # A change that is already done was planned for the future when it was scheduled.
            planned_start=now + dt.timedelta(hours=1) if closed else start,
            planned_end=now + dt.timedelta(hours=3) if closed else start + dt.timedelta(hours=2),
            justification=spec.get('justification', ''),
            implementation_plan=spec.get('implementation_plan', ''),
            backout_plan=spec.get('backout_plan', ''),
            test_plan=spec.get('test_plan', ''),
        )
        _walk(change, spec['state'], manager, engineer)
        created += 1
    log(f'changes: {models} change models and {created} changes created')
