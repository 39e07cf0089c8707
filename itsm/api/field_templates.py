"""Serializer fields built once per class and process, copied for each instance.

DRF's `ModelSerializer.get_fields` reads the model's fields and makes every serializer field anew for each
serializer instance: about 1 ms for a ticket's 53 fields, spent twice on an API create (the input, then the clocks of
the answer) and once per list page. What it builds depends only on the class, its `Meta` and the model, so
`FieldsBuiltOnceMixin` keeps the first result as the class's template and hands each instance copies of it.

A plain field is copied shallowly: binding it to its serializer sets its name, parent, label and source on the copy,
and the template itself is never bound or used. A field holding other fields (a nested serializer, a list of
relations, a list or dict of a child field) is deep-copied, as DRF does, so no two serializers share a child.
"""

from __future__ import annotations

import copy

from rest_framework import serializers

# Fields whose children are bound to them: shared children would point at whichever parent bound them last.
_NESTING = (serializers.BaseSerializer, serializers.ManyRelatedField, serializers.ListField, serializers.DictField)


def copy_field(field: serializers.Field) -> serializers.Field:
    return copy.deepcopy(field) if isinstance(field, _NESTING) else copy.copy(field)


class FieldsBuiltOnceMixin:
    """For a serializer whose fields depend on nothing but its class (not on the request, the instance or the
    context): DRF builds them the first time, later instances get copies. Each subclass keeps its own template."""

    def get_fields(self):
        cls = type(self)
        template = cls.__dict__.get('_field_template')
        if template is None:
            template = super().get_fields()
            cls._field_template = template
        return {name: copy_field(field) for name, field in template.items()}
