"""What service levels know about process records, read from the app registry rather than named here.

Every concrete `itsm.records.ProcessRecord` model can carry clocks (through its `sla_clocks` generic relation).
Its `workflow` says which states are open (an agreement may pause in them), which pause by default, which finish
the work and which close the record; its `sla_kind`, `sla_priority`, `sla_service_id`, `sla_responded` and
`pause_reason()` say what the engine measures. This module gathers, across every such model:

- the kinds agreements can name (`kind_choices`, the allowed `ticket_kind` values of an SLA): a model declares
  them as `sla_kinds` choices; a model with a `kind` field lists that field's choices (tickets: incident and
  case); any other model is one kind named after itself;
- the states an agreement may pause in (`pausable_states`: every workflow's open states) and the default
  (`default_pause_states`: every workflow's paused states);
- how clocks reach their records in queries (`record_lookups`): each model's `sla_clocks` relation gives clocks
  a query name (`ticket__number`), used by the clock filters and searches.

A new kind of process record therefore gets clocks, pause states and SLA kinds without a change in this app.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Q
from django.utils.text import capfirst

__all__ = [
    'default_pause_states',
    'kind_choices',
    'pausable_states',
    'record_lookups',
    'record_models',
    'record_q',
]


def record_models() -> list[type]:
    """The concrete process-record models (proxies share their model's clocks, so they are left out)."""
    from itsm.records import ProcessRecord

    return [
        model
        for model in apps.get_models()
        if issubclass(model, ProcessRecord) and not model._meta.proxy and model.workflow is not None
    ]


def _state_labels(model) -> dict[str, str]:
    field = model._meta.get_field(model.workflow.field)
    return {value: str(label) for value, label in (field.choices or ())}


def pausable_states() -> list[tuple[str, str]]:
    """(state, label) of every state an agreement may pause in: the open states of every record's workflow, each
    once, in workflow order. Finished states stop clocks rather than pause them."""
    found: dict[str, str] = {}
    for model in record_models():
        labels = _state_labels(model)
        for state in model.workflow.open_states:
            found.setdefault(str(state), labels.get(state) or capfirst(str(state).replace('_', ' ')))
    return list(found.items())


def default_pause_states() -> list[str]:
    """The states a new agreement pauses in: every record workflow's `paused_states` (tickets: Pending)."""
    found: dict[str, None] = {}
    for model in record_models():
        found.update(dict.fromkeys(str(state) for state in model.workflow.paused_states))
    return list(found)


def _kinds_of(model) -> list[tuple[str, str]]:
    declared = getattr(model, 'sla_kinds', None)
    if declared is not None:
        return [(str(value), str(label)) for value, label in declared]
    field = next((f for f in model._meta.concrete_fields if f.name == 'kind' and f.choices), None)
    if field is not None:
        return [(str(value), str(label)) for value, label in field.choices]
    return [(model._meta.model_name, capfirst(str(model._meta.verbose_name)))]


def kind_choices() -> list[tuple[str, str]]:
    """The kinds of record agreements can name (an SLA's `ticket_kind`), each once."""
    found: dict[str, str] = {}
    for model in record_models():
        for value, label in _kinds_of(model):
            found.setdefault(value, label)
    return list(found.items())


def record_lookups() -> list[str]:
    """The query names from a clock to each kind of record (`ticket` for tickets), for `<name>__<field>` lookups."""
    names = []
    for model in record_models():
        relation = model._meta.get_field('sla_clocks')
        names.append(relation.remote_field.related_query_name or model._meta.model_name)
    return names


def record_q(field: str, lookup: str, value, *, prefix: str = '') -> Q:
    """Clocks (or, with `prefix='clock__'`, rows of a clock) whose record's `field` matches `value`, whatever kind
    of record it is: one condition per kind, joined with OR (one join each, tickets alone today)."""
    condition = Q()
    for name in record_lookups():
        condition |= Q(**{f'{prefix}{name}__{field}__{lookup}': value})
    return condition
