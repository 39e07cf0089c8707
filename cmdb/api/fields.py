"""Configuration items addressed the way people and integrations name them: by number (CI0000101)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import ConfigurationItem


@extend_schema_field(OpenApiTypes.STR)
class CINumberField(serializers.RelatedField):
    """A configuration item by its number (CI0000101); `services_only` accepts only services."""

    default_error_messages = {
        'does_not_exist': 'No configuration item {value}.',
        'not_a_service': '{value} is not a service.',
    }

    def __init__(self, *, services_only: bool = False, **kwargs):
        self.services_only = services_only
        kwargs.setdefault('queryset', ConfigurationItem.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = str(data).strip().upper()
        item = self.get_queryset().filter(number=value).first()
        if item is None:
            self.fail('does_not_exist', value=value)
        if self.services_only and item.ci_class != 'service':
            self.fail('not_a_service', value=value)
        return item

    def to_representation(self, value):
        return value.number
