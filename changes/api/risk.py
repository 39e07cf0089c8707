"""Risk over the API:

- `/api/v1/risk-questions/` (each with its answers), `/api/v1/risk-question-answers/`, `/api/v1/risk-bands/` and
  `/api/v1/risk-rules/`: the questionnaire and the rules, data administrators and change managers edit;
- `/api/v1/risk-assessments/`: the answers changes gave (one row per change and question);
- `GET /api/v1/changes/{number}/risk/`: the assessment today (questionnaire, signals with their items, level and
  why) beside the one stored; `POST /api/v1/changes/{number}/risk-answers/` answers the questionnaire and
  `POST /api/v1/changes/{number}/risk-refresh/` stores a new assessment (change managers).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.views.records import find_record

from .. import risk
from ..choices import RiskLevel, RiskSignal
from ..filters import (
    RiskAnswerFilterSet,
    RiskAssessmentFilterSet,
    RiskBandFilterSet,
    RiskQuestionFilterSet,
    RiskRuleFilterSet,
)
from ..models import Change, RiskAnswer, RiskAssessment, RiskBand, RiskQuestion, RiskRule

__all__ = ['register']


# ------------------------------------------------------------------------------------------ the questionnaire
class RiskAnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskAnswer
        fields = ['id', 'question', 'position', 'label', 'score']
        read_only_fields = ['id']


class NestedAnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskAnswer
        fields = ['id', 'position', 'label', 'score']
        read_only_fields = fields


class RiskQuestionSerializer(serializers.ModelSerializer):
    answers = NestedAnswerSerializer(many=True, read_only=True, help_text='Edited at /api/v1/risk-question-answers/.')

    class Meta:
        model = RiskQuestion
        fields = ['id', 'position', 'text', 'help_text', 'active', 'answers', 'created_at', 'updated_at']
        read_only_fields = ['id', 'answers', 'created_at', 'updated_at']


class RiskBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskBand
        fields = ['id', 'min_score', 'level']
        read_only_fields = ['id']


class RiskRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskRule
        fields = ['id', 'name', 'signal', 'threshold', 'raise_to', 'active', 'created_at', 'updated_at']
        read_only_fields = ['id', 'created_at', 'updated_at']


class RiskQuestionViewSet(ItsmModelViewSet):
    """Questions of the risk questionnaire, with their answers; each answer a change gives adds its score."""

    queryset = RiskQuestion.objects.prefetch_related('answers').order_by('position', 'pk')
    serializer_class = RiskQuestionSerializer
    filterset_class = RiskQuestionFilterSet


class RiskAnswerViewSet(ItsmModelViewSet):
    """The answers a question offers, with their scores."""

    queryset = RiskAnswer.objects.order_by('question__position', 'question_id', 'position', 'pk')
    serializer_class = RiskAnswerSerializer
    filterset_class = RiskAnswerFilterSet


class RiskBandViewSet(ItsmModelViewSet):
    """From a questionnaire score up, a risk level (the highest band reached wins)."""

    queryset = RiskBand.objects.order_by('min_score')
    serializer_class = RiskBandSerializer
    filterset_class = RiskBandFilterSet


class RiskRuleViewSet(ItsmModelViewSet):
    """When a signal of the CMDB or the live desk reaches the threshold, the risk is raised to at least `raise_to`."""

    queryset = RiskRule.objects.order_by('signal', 'threshold', 'pk')
    serializer_class = RiskRuleSerializer
    filterset_class = RiskRuleFilterSet


# ------------------------------------------------------------------------------------------ the answers of changes
class _ChangeNumberField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field='number', queryset=Change.objects.all(), **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class RiskAssessmentSerializer(serializers.ModelSerializer):
    change = _ChangeNumberField(help_text='The change number.')
    score = serializers.IntegerField(source='answer.score', read_only=True)

    class Meta:
        model = RiskAssessment
        fields = ['id', 'change', 'question', 'answer', 'score']
        read_only_fields = ['id', 'score']

    def validate(self, data):
        question = data.get('question') or getattr(self.instance, 'question', None)
        answer = data.get('answer')
        if answer is not None and question is not None and answer.question_id != question.pk:
            raise serializers.ValidationError({'answer': f'Not an answer to "{question.text}".'})
        return data


class RiskAssessmentUpdateSerializer(RiskAssessmentSerializer):
    class Meta(RiskAssessmentSerializer.Meta):
        read_only_fields = ['id', 'change', 'question', 'score']


class RiskAssessmentViewSet(ItsmModelViewSet):
    """The answers changes gave. Answering replaces the change's earlier answer to the question; the change's
    stored questionnaire level follows each write."""

    queryset = RiskAssessment.objects.select_related('change', 'answer').order_by('change_id', 'question__position')
    serializer_class = RiskAssessmentSerializer
    filterset_class = RiskAssessmentFilterSet
    http_method_names = ['get', 'post', 'patch', 'delete', 'head', 'options']

    def get_serializer_class(self):
        if self.action in ('partial_update', 'update'):
            return RiskAssessmentUpdateSerializer
        return RiskAssessmentSerializer

    def perform_create(self, serializer):
        serializer.instance = risk.risk_assessment_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        data = serializer.validated_data
        if 'answer' not in data:
            return
        serializer.instance = risk.risk_assessment_update(
            actor=self.actor(), assessment=serializer.instance, answer=data['answer']
        )

    def perform_destroy(self, instance):
        risk.risk_assessment_delete(actor=self.actor(), assessment=instance)


# ------------------------------------------------------------------------------------------ a change's risk
class SignalItemSerializer(serializers.Serializer):
    text = serializers.CharField()
    url = serializers.CharField()
    note = serializers.CharField()
    on = serializers.CharField(help_text='The affected CI or service it concerns.')


class SignalSerializer(serializers.Serializer):
    signal = serializers.ChoiceField(choices=RiskSignal.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    items = SignalItemSerializer(many=True)


class AssessmentSerializer(serializers.Serializer):
    change = serializers.CharField()
    level = serializers.ChoiceField(choices=RiskLevel.choices, help_text='The level today.')
    questionnaire_level = serializers.ChoiceField(choices=RiskLevel.choices)
    score = serializers.IntegerField()
    answered = serializers.IntegerField()
    questions = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    signals = SignalSerializer(many=True)
    stored_level = serializers.CharField(help_text='The level stored at the last assessment ("" before one).')
    stored_reasons = serializers.ListField(child=serializers.CharField())
    assessed_at = serializers.DateTimeField(allow_null=True)


class RiskAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Question id → answer id, e.g. {"3": 12}; answering again replaces an answer.',
    )

    def validate_answers(self, value):
        try:
            return {int(key): answer for key, answer in value.items()}
        except (TypeError, ValueError):
            raise serializers.ValidationError('Keys are question ids.') from None


def assessment_data(change: Change, result: risk.RiskResult) -> dict:
    return {
        'change': change.number,
        'level': result.level,
        'questionnaire_level': result.questionnaire_level,
        'score': result.score,
        'answered': result.answered,
        'questions': result.questions,
        'reasons': result.reasons,
        'signals': [
            {
                'signal': key,
                'label': value.label,
                'count': value.count,
                'items': [vars(item) for item in value.items],
            }
            for key, value in result.signals.items()
        ],
        'stored_level': change.risk_level,
        'stored_reasons': change.risk_reasons,
        'assessed_at': change.risk_assessed_at,
    }


class ChangeRiskViewSet(viewsets.GenericViewSet):
    """A change's risk, addressed by the change number."""

    queryset = Change.objects.all()
    serializer_class = AssessmentSerializer
    lookup_field = 'number'
    lookup_value_regex = '[A-Za-z]+[0-9]+'
    permission_action = 'view'

    def change(self) -> Change:
        return find_record(Change.objects.all(), self.kwargs['number'])

    def answer(self, change: Change, result: risk.RiskResult | None = None) -> Response:
        change.refresh_from_db()
        return Response(assessment_data(change, result or risk.assess_risk(change)))

    @extend_schema(responses={200: AssessmentSerializer})
    @action(detail=True, methods=['get'])
    def risk(self, request, number=None):
        """The assessment today: the questionnaire's level, the signals with what is behind them, the level the
        rules raise it to and why; beside it the assessment stored on the change."""
        return self.answer(self.change())

    @extend_schema(request=RiskAnswersSerializer, responses={200: AssessmentSerializer})
    @action(detail=True, methods=['post'], url_path='risk-answers')
    def risk_answers(self, request, number=None):
        """Answer the risk questionnaire (staff who draft changes and change managers, until authorisation); the
        assessment they give is stored on the change."""
        change = self.change()
        payload = RiskAnswersSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = risk.answer_questionnaire(
            change=change, actor=Actor.from_request(request), answers=payload.validated_data['answers']
        )
        return self.answer(change, result)

    @extend_schema(request=None, responses={200: AssessmentSerializer})
    @action(detail=True, methods=['post'], url_path='risk-refresh')
    def risk_refresh(self, request, number=None):
        """Assess the risk again from the answers and today's signals, and store it (change managers)."""
        change = self.change()
        result = risk.risk_refresh(change=change, actor=Actor.from_request(request))
        return self.answer(change, result)


def register(router) -> None:
    """Add the risk routes to the changes' API router."""
    router.register('risk-questions', RiskQuestionViewSet, basename='riskquestion')
    router.register('risk-question-answers', RiskAnswerViewSet, basename='riskanswer')
    router.register('risk-bands', RiskBandViewSet, basename='riskband')
    router.register('risk-rules', RiskRuleViewSet, basename='riskrule')
    router.register('risk-assessments', RiskAssessmentViewSet, basename='riskassessment')
    router.register('changes', ChangeRiskViewSet, basename='change-risk')
