"""Key result areas: what each working role is responsible for, and the KPIs that show how well (domain §11).

An agent's KPI page lists the KRAs of the roles the person holds, each with its measures over the tickets
assigned to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsm.choices import Role

__all__ = ['KRA', 'KRAS', 'kras_for']


@dataclass(frozen=True)
class KRA:
    title: str
    description: str
    measures: tuple[str, ...]


RESPONSIVENESS = KRA(
    'Responsiveness', 'Accept the tickets of your groups within their response targets.', ('answer_rate', 'mtta')
)
TARGETS = KRA('Service levels', 'Resolve within the agreed SLA targets.', ('sla_compliance', 'mttr'))

KRAS: dict[str, list[KRA]] = {
    Role.SERVICE_DESK_AGENT: [
        KRA(
            'First-line resolution',
            'Log, classify and resolve at first contact with known procedures and knowledge articles.',
            ('fcr', 'reopen_rate', 'volume'),
        ),
        RESPONSIVENESS,
        TARGETS,
    ],
    Role.L2_ENGINEER: [
        KRA(
            'Diagnosis and workarounds',
            'Investigate escalated tickets, find causes and restore service, with a workaround if need be.',
            ('mttr', 'reopen_rate', 'volume'),
        ),
        RESPONSIVENESS,
        TARGETS,
    ],
    Role.L3_ENGINEER: [
        KRA(
            'Expert resolution',
            'Fix complex defects and critical issues, including out-of-hours on-call work.',
            ('mttr', 'reopen_rate', 'volume'),
        ),
        TARGETS,
    ],
    Role.INCIDENT_MANAGER: [
        KRA(
            'Incident flow',
            'Keep tickets with the right group, escalate when targets are at risk, keep the backlog down.',
            ('sla_compliance', 'backlog', 'mttr'),
        ),
    ],
}
DEFAULT = [TARGETS, KRA('Quality', 'Resolve for good, so callers need not come back.', ('reopen_rate', 'fcr'))]


def kras_for(person) -> list[KRA]:
    """The KRAs of the person's working roles, each once, in role order."""
    found: list[KRA] = []
    slugs = person.role_slugs()
    for role in KRAS:
        if role in slugs:
            for kra in KRAS[role]:
                if kra not in found:
                    found.append(kra)
    return found or DEFAULT
