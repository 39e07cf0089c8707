"""Demo problems in different states, logged and worked through the services so each has a real history, and the
problem priorities of the demo categories. Idempotent: a problem is looked up by its short description."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel, Impact, Urgency
from itsm.models import SupportGroup, User

from . import services
from .choices import AnalysisMethod, ProblemState, RootCauseCategory
from .models import CategoryPriority, Problem

S = ProblemState

# (category, impact, urgency): what a problem of the category weighs.
CATEGORY_PRIORITIES = [
    ('Network', Impact.HIGH, Urgency.URGENT),
    ('Database', Impact.HIGH, Urgency.CRITICAL),
    ('Email', Impact.MEDIUM, Urgency.URGENT),
    ('Hardware', Impact.LOW, Urgency.NORMAL),
]

PROBLEMS = [
    {
        'short_description': 'VPN sessions drop every few minutes for home workers',
        'description': 'Several callers working from home lose the VPN tunnel every few minutes since last week.',
        'category': ('Network', 'VPN'),
        'services': ['VPN'],
        'cis': ['vpn-gw-01'],
        'group': 'Network Operations',
        'symptoms': 'The VPN client shows "Reconnecting" and drops open file shares; worse in the afternoon.',
        'workaround': 'Reconnect from the client tray icon; large transfers over the office network only.',
        'state': S.ROOT_CAUSE_ANALYSIS,
        'vendor': ('SecureGate Networks', 'SG-20931'),
        'incident': 'VPN drops every few minutes when working from home',
        'days_ago': 6,
    },
    {
        'short_description': 'Nightly backups of the database servers fail intermittently',
        'description': 'Monitoring reports failed backup jobs two or three nights a week.',
        'category': ('Database', 'Backup'),
        'services': ['Backups'],
        'cis': ['srv-backup-01', 'nas-backup-01'],
        'group': 'Server and Storage',
        'symptoms': 'Backup jobs end with "target storage not reachable" between 01:00 and 02:00.',
        'root_cause': 'The backup NAS runs its own scrub job at 01:00 and stops answering for up to 40 minutes.',
        'root_cause_category': RootCauseCategory.CONFIGURATION,
        'contributing_factors': 'Both schedules were set to the vendor defaults; nobody owned the NAS schedule.',
        'analysis_method': AnalysisMethod.TIMELINE,
        'workaround': 'Re-run the failed jobs in the morning from the backup console.',
        'state': S.FIX_IN_PROGRESS,
        'days_ago': 12,
    },
    {
        'short_description': 'Mailbox sync stalls on laptops after the mail client update',
        'description': 'Since the client update, laptops stop syncing after sleep.',
        'category': ('Email', 'Mailbox'),
        'services': ['Managed mail'],
        'cis': ['Microsoft Exchange', 'vm-mail-01'],
        'group': 'Platform Engineering',
        'symptoms': 'New mail stops arriving on laptops after they wake from sleep; webmail is fine.',
        'root_cause': 'The updated client keeps a stale session token after sleep; the server refuses it silently.',
        'root_cause_category': RootCauseCategory.SOFTWARE,
        'analysis_method': AnalysisMethod.FIVE_WHYS,
        'workaround': 'Restart the mail client after waking the laptop.',
        'resolution': 'Client patch 16.2.1 rolled out to all laptops; verified on 20 machines over a week.',
        'state': S.RESOLVED,
        'days_ago': 30,
    },
    {
        'short_description': 'Printers on the 2nd floor jam on every job',
        'description': 'Two printers on the same floor jam repeatedly; three incidents this month.',
        'category': ('Hardware', 'Printer'),
        'services': ['Desktop PC'],
        'cis': [],
        'group': None,
        'symptoms': 'Paper jams at the fuser on the first page of every job.',
        'state': S.NEW,
        'days_ago': 2,
    },
]


def _category(names):
    from incidents.models import Category

    name, sub = names
    parent = Category.objects.filter(name=name, parent=None).first()
    child = Category.objects.filter(name=sub, parent=parent).first() if parent else None
    return parent, child


def _items(names, *, services_only=False):
    from cmdb.models import ConfigurationItem

    items = ConfigurationItem.objects.filter(name__in=names)
    return list(items.filter(ci_class='service') if services_only else items.exclude(ci_class='service'))


def _link_incident(problem: Problem, text: str, actor: Actor) -> None:
    from incidents.models import Ticket

    from .incident_links import link_incident

    incident = Ticket.objects.filter(short_description=text, problem_link__isnull=True).first()
    if incident is not None and incident.is_open:
        link_incident(problem=problem, incident=incident, actor=actor)


def _walk(problem: Problem, spec: dict, manager: Actor) -> Problem:
    """Drive the problem to its state through the services, as the problem manager and the analysts would."""
    target = spec['state']
    if target == S.NEW:
        return problem
    group = SupportGroup.objects.filter(name=spec['group']).first() if spec['group'] else None
    problem = services.problem_assess(
        problem=problem, actor=manager, owner=manager.user, assignment_group=group, note='Recurring: worth analysing.'
    )
    problem = services.problem_analyse(problem=problem, actor=manager)
    if spec.get('vendor'):
        vendor, reference = spec['vendor']
        problem = services.problem_await_vendor(
            problem=problem, actor=manager, vendor=vendor, vendor_reference=reference, note='Logs sent to the vendor.'
        )
    if target == S.ROOT_CAUSE_ANALYSIS:
        return problem
    problem = services.problem_record_analysis(
        problem=problem,
        actor=manager,
        root_cause=spec['root_cause'],
        root_cause_category=spec['root_cause_category'],
        contributing_factors=spec.get('contributing_factors', ''),
        analysis_method=spec['analysis_method'],
    )
    problem = services.problem_start_fix(problem=problem, actor=manager, note='Fix planned with the service owner.')
    if target == S.FIX_IN_PROGRESS:
        return problem
    return services.problem_resolve(problem=problem, actor=manager, resolution=spec['resolution'])


@transaction.atomic
def load(log=print) -> None:
    system = Actor.system()
    rows = 0
    for name, impact, urgency in CATEGORY_PRIORITIES:
        category, _ = _category((name, None))
        if category is not None and not CategoryPriority.objects.filter(category=category).exists():
            services.category_priority_create(actor=system, category=category, impact=impact, urgency=urgency)
            rows += 1
    manager_user = User.objects.filter(username='problem.manager').first()
    if manager_user is None:
        log('problems: no demo problem manager; load the core demo data first')
        return
    manager = Actor(user=manager_user, channel=Channel.UI)
    created = 0
    for spec in PROBLEMS:
        if Problem.objects.filter(short_description=spec['short_description']).exists():
            continue
        category, subcategory = _category(spec['category'])
        problem = services.problem_create(
            actor=system,
            short_description=spec['short_description'],
            description=spec['description'],
            category=category,
            subcategory=subcategory,
            services=_items(spec['services'], services_only=True),
            cis=_items(spec['cis']),
            symptoms=spec['symptoms'],
            workaround=spec.get('workaround', ''),
            opened_at=timezone.now() - dt.timedelta(days=spec['days_ago']),
        )
        if spec.get('incident'):
            _link_incident(problem, spec['incident'], manager)
        _walk(problem, spec, manager)
        created += 1
    log(f'problems: {created} problems and {rows} category priorities created')
