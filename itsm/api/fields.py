"""Relations addressed the way people and integrations name them: people by username, support groups by name."""

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
