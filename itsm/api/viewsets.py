"""Base viewset: CRUD through audited services, lookups by reference number, role permissions."""

from rest_framework import exceptions, viewsets

from itsm import services
from itsm.audit import Actor


class ItsmModelViewSet(viewsets.ModelViewSet):
    """ModelViewSet whose writes go through services, so every change lands in the record's timeline.

    Subclasses override `perform_create`/`perform_update` to call their app's own service when one exists;
    the serializer only validates and shapes data.
    """

    http_method_names = ['get', 'post', 'patch', 'put', 'delete', 'head', 'options']
    # Set per `@action(..., permission_action='change')`: the model permission the action needs.
    permission_action: str | None = None

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def initial(self, request, *args, **kwargs):
        # A method the viewset does not offer (`http_method_names`) is 405 for everyone, not a 403 from the
        # permission check that would otherwise run first.
        if request.method.lower() not in self.http_method_names:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.record_create(
            model=self.get_queryset().model, fields=dict(serializer.validated_data), actor=self.actor()
        )

    def perform_update(self, serializer):
        serializer.instance = services.record_update(
            obj=serializer.instance, fields=dict(serializer.validated_data), actor=self.actor()
        )

    def perform_destroy(self, instance):
        services.record_delete(obj=instance, actor=self.actor())


class NumberLookupMixin:
    """Records are addressed by their reference number in URLs (`/incidents/INC0001001/`)."""

    lookup_field = 'number'
    lookup_value_regex = '[A-Z]+[0-9]+'
