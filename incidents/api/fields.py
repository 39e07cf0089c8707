"""Categories addressed the way people and integrations name them (usernames and groups: `itsm.api.fields`; CIs by
number: `cmdb.api.fields`)."""

from django.apps import apps
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.STR)
class CategoryField(serializers.RelatedField):
    """A category or subcategory by name or id."""

    default_error_messages = {'does_not_exist': 'No category "{value}".'}

    def __init__(self, *, subcategory: bool = False, **kwargs):
        self.subcategory = subcategory
        kwargs.setdefault('queryset', apps.get_model('incidents', 'Category').objects.filter(active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = str(data).strip()
        queryset = self.get_queryset().filter(parent__isnull=not self.subcategory)
        item = (
            queryset.filter(pk=int(value)).first() if value.isdigit() else queryset.filter(name__iexact=value).first()
        )
        if item is None:
            self.fail('does_not_exist', value=value)
        return item

    def to_representation(self, value):
        return value.name
