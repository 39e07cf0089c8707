"""Serializers of the predictions API: duration profiles (staff, read only) and the `prediction` of the incident
resource (the band for staff, the plain sentence for requesters)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.api.fields import GroupField

from ..models import DurationProfile, Prediction
from ..selectors import prediction_of, requester_text


class DurationProfileSerializer(serializers.ModelSerializer):
    category = serializers.StringRelatedField(read_only=True)
    service = serializers.SlugRelatedField(slug_field='number', read_only=True)
    group = GroupField(source='assignment_group', read_only=True)
    p10_seconds = serializers.SerializerMethodField()
    p50_seconds = serializers.SerializerMethodField()
    p90_seconds = serializers.SerializerMethodField()

    class Meta:
        model = DurationProfile
        fields = [
            'id',
            'level',
            'kind',
            'priority',
            'category',
            'service',
            'group',
            'channel',
            'samples',
            'p10_seconds',
            'p50_seconds',
            'p90_seconds',
            'built_at',
        ]
        read_only_fields = fields

    def get_p10_seconds(self, profile) -> float:
        return profile.p10.total_seconds()

    def get_p50_seconds(self, profile) -> float:
        return profile.p50.total_seconds()

    def get_p90_seconds(self, profile) -> float:
        return profile.p90.total_seconds()


class PredictionSerializer(serializers.ModelSerializer):
    """A ticket's prediction as staff read it. Requesters get only `text`, the portal's sentence."""

    # Never written: not read-only only so that the schema can describe the field in both directions.
    text = serializers.CharField(help_text='What the requester is told ("usually resolved within …").')
    typical_seconds = serializers.SerializerMethodField(help_text='How long similar tickets usually take.')

    class Meta:
        model = Prediction
        fields = ['expected_at', 'low_at', 'high_at', 'typical_seconds', 'level', 'samples', 'computed_at', 'text']

    def get_typical_seconds(self, prediction) -> float:
        return prediction.typical.total_seconds()


@extend_schema_field(PredictionSerializer)
class PredictionField(serializers.Field):
    """The `prediction` of a ticket: null when it has none (not open, or no similar completed ticket); for a
    requester only `{"text": …}`, and null when the desk has set an ETA."""

    def __init__(self, **kwargs):
        kwargs.update(source='*', read_only=True, allow_null=True)
        super().__init__(**kwargs)

    def to_representation(self, ticket):
        prediction = prediction_of(ticket)
        request = self.context.get('request')
        user = getattr(request, 'user', None)
        if user is None or not user.is_authenticated or user.is_requester_only:
            text = requester_text(ticket, prediction)
            return {'text': text} if text and prediction is not None else None
        if prediction is None:
            return None
        prediction.text = requester_text(ticket, prediction)
        return PredictionSerializer(prediction, context=self.context).data
