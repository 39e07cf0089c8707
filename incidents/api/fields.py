"""Relations addressed the way people and integrations name them: usernames, group names, CI numbers."""

from django.apps import apps
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.models import SupportGroup, User


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault('queryset', User.objects.filter(is_active=True))
        super().__init__(slug_field='username', **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class GroupField(serializers.RelatedField):
    """A support group by name or id."""

    default_error_messages = {'does_not_exist': 'No support group "{value}".'}

    def __init__(self, **kwargs):
        if not kwargs.get('read_only'):
            kwargs.setdefault('queryset', SupportGroup.objects.filter(active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = str(data).strip()
        queryset = self.get_queryset()
        group = (
            queryset.filter(pk=int(value)).first() if value.isdigit() else queryset.filter(name__iexact=value).first()
        )
        if group is None:
            self.fail('does_not_exist', value=value)
        return group

    def to_representation(self, value):
        return value.name


@extend_schema_field(OpenApiTypes.STR)
class CINumberField(serializers.RelatedField):
    """A configuration item by its number (CI0000101); `services_only` accepts only services."""

    default_error_messages = {
        'does_not_exist': 'No configuration item {value}.',
        'not_a_service': '{value} is not a service.',
    }

    def __init__(self, *, services_only: bool = False, **kwargs):
        self.services_only = services_only
        kwargs.setdefault('queryset', apps.get_model('cmdb', 'ConfigurationItem').objects.all())
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
