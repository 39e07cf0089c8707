"""Risk pages: the questionnaire (questions and their answers), the bands and the rules administrators edit, the
answers changes gave, and the change page's assessment panel (loaded by htmx) with its questionnaire form and the
change manager's "assess again"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from itsm.errors import ApplicationError
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectViewMixin,
    StaffOnlyMixin,
    error_text,
)

from .. import risk
from ..choices import RiskSignal
from ..filters import RiskAssessmentFilterSet, RiskBandFilterSet, RiskQuestionFilterSet, RiskRuleFilterSet
from ..models import Change, RiskAnswer, RiskAssessment, RiskBand, RiskQuestion, RiskRule

LEVEL_COLOURS = {'low': 'green', 'moderate': 'yellow', 'high': 'orange', 'very_high': 'red'}


# ------------------------------------------------------------------------------------------ forms
class RiskQuestionForm(forms.ModelForm):
    class Meta:
        model = RiskQuestion
        fields = ['position', 'text', 'help_text', 'active']


class RiskAnswerForm(forms.ModelForm):
    class Meta:
        model = RiskAnswer
        fields = ['question', 'position', 'label', 'score']


class RiskBandForm(forms.ModelForm):
    class Meta:
        model = RiskBand
        fields = ['min_score', 'level']


class RiskRuleForm(forms.ModelForm):
    class Meta:
        model = RiskRule
        fields = ['name', 'signal', 'threshold', 'raise_to', 'active']


class RiskAssessmentForm(forms.ModelForm):
    change = forms.CharField(max_length=16, help_text='The change number (CHG…).')

    class Meta:
        model = RiskAssessment
        fields = ['change', 'question', 'answer']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['question'].queryset = RiskQuestion.objects.filter(active=True)
        self.fields['answer'].queryset = RiskAnswer.objects.select_related('question')
        if self.instance.pk:
            self.initial['change'] = self.instance.change.number

    def clean_change(self):
        number = self.cleaned_data['change'].strip().upper()
        change = Change.objects.filter(number=number).first()
        if change is None:
            raise ValidationError(f'No change {number}.')
        return change

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RiskAssessmentEditForm(forms.ModelForm):
    class Meta:
        model = RiskAssessment
        fields = ['answer']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['answer'].queryset = RiskAnswer.objects.filter(question=self.instance.question_id)


class QuestionnaireForm(forms.Form):
    """One choice per active question, the change's answers selected."""

    def __init__(self, *args, questions, current: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        for question in questions:
            self.fields[f'q{question.pk}'] = forms.TypedChoiceField(
                label=question.text,
                help_text=question.help_text,
                coerce=int,
                required=False,
                empty_value=None,
                choices=[('', '— not answered —'), *[(a.pk, a.label) for a in question.answers.all()]],
                initial=current.get(question.pk),
            )

    def answers(self) -> dict[int, int]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items() if value is not None}


# ------------------------------------------------------------------------------------------ reference data
class RiskQuestionListView(StaffOnlyMixin, ObjectListView):
    queryset = RiskQuestion.objects.prefetch_related('answers')
    filterset_class = RiskQuestionFilterSet
    columns = [
        'position',
        Column('text', 'Question', linkify=True),
        Column('answers_text', 'Answers', order_by=None),
        'active',
    ]
    title = 'Risk questionnaire'

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        for question in context['object_list']:
            question.answers_text = ' · '.join(str(answer) for answer in question.answers.all())
        return context


class RiskQuestionDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = RiskQuestion.objects.all()
    template_name = 'changes/risk_question_detail.html'
    fields = ['position', 'text', 'help_text', 'active']

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {'answers': list(obj.answers.all())}


class RiskQuestionCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = RiskQuestion.objects.all()
    form_class = RiskQuestionForm


class RiskQuestionEditView(StaffOnlyMixin, ObjectEditView):
    queryset = RiskQuestion.objects.all()
    form_class = RiskQuestionForm


class RiskQuestionDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = RiskQuestion.objects.all()
    action_description = 'Its answers go with it. Changes that answered it keep their answer: deactivate it instead.'


class RiskAnswerListView(StaffOnlyMixin, ObjectListView):
    queryset = RiskAnswer.objects.select_related('question')
    columns = [
        Column('question', 'Question', order_by='question__position'),
        Column('__str__', 'Answer (score)', order_by='label', linkify=True),
        'score',
        'position',
    ]
    title = 'Risk answers'


class RiskAnswerDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = RiskAnswer.objects.select_related('question')
    fields = ['question', 'label', 'score', 'position']


class RiskAnswerCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = RiskAnswer.objects.all()
    form_class = RiskAnswerForm

    def get_initial(self) -> dict[str, Any]:
        return {'question': self.request.GET.get('question')}


class RiskAnswerEditView(StaffOnlyMixin, ObjectEditView):
    queryset = RiskAnswer.objects.all()
    form_class = RiskAnswerForm


class RiskAnswerDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = RiskAnswer.objects.all()
    action_description = 'An answer a change gave is kept: it cannot be deleted.'


class RiskBandListView(StaffOnlyMixin, ObjectListView):
    queryset = RiskBand.objects.all()
    filterset_class = RiskBandFilterSet
    columns = [Column('__str__', 'Band', order_by='min_score', linkify=True), Column('level', colors=LEVEL_COLOURS)]
    title = 'Risk bands'


class RiskBandDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = RiskBand.objects.all()


class RiskBandCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = RiskBand.objects.all()
    form_class = RiskBandForm


class RiskBandEditView(StaffOnlyMixin, ObjectEditView):
    queryset = RiskBand.objects.all()
    form_class = RiskBandForm


class RiskBandDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = RiskBand.objects.all()


class RiskRuleListView(StaffOnlyMixin, ObjectListView):
    queryset = RiskRule.objects.all()
    filterset_class = RiskRuleFilterSet
    columns = [
        Column('name', linkify=True),
        'signal',
        'threshold',
        Column('raise_to', 'Raises to at least', colors=LEVEL_COLOURS),
        'active',
    ]
    title = 'Risk rules'


class RiskRuleDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = RiskRule.objects.all()


class RiskRuleCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = RiskRule.objects.all()
    form_class = RiskRuleForm


class RiskRuleEditView(StaffOnlyMixin, ObjectEditView):
    queryset = RiskRule.objects.all()
    form_class = RiskRuleForm


class RiskRuleDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = RiskRule.objects.all()


class RiskAssessmentListView(StaffOnlyMixin, ObjectListView):
    queryset = RiskAssessment.objects.select_related('change', 'question', 'answer')
    filterset_class = RiskAssessmentFilterSet
    columns = [
        Column('__str__', 'Answer given', order_by=None, linkify=True),
        Column('change.number', 'Change'),
        Column('question', 'Question', order_by='question__position'),
        Column('answer.score', 'Score'),
    ]
    title = 'Risk answers of changes'


class RiskAssessmentDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = RiskAssessment.objects.select_related('change', 'question', 'answer')
    fields = [Column('change.number', 'Change'), 'question', 'answer']


class RiskAssessmentCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = RiskAssessment.objects.all()
    form_class = RiskAssessmentForm
    service = risk.risk_assessment_create


class RiskAssessmentEditView(StaffOnlyMixin, ObjectEditView):
    queryset = RiskAssessment.objects.all()
    form_class = RiskAssessmentEditForm
    service = risk.risk_assessment_update
    service_object_kwarg = 'assessment'


class RiskAssessmentDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = RiskAssessment.objects.all()
    service = risk.risk_assessment_delete
    service_object_kwarg = 'assessment'


# ------------------------------------------------------------------------------------------ the change's panel
def panel_context(change: Change, user, *, form: QuestionnaireForm | None = None) -> dict[str, Any]:
    """What the panel shows: the stored assessment, today's signals and the questionnaire (four queries plus one
    impact walk per affected CI)."""
    result = risk.assess_risk(change)
    questions = list(RiskQuestion.objects.filter(active=True).prefetch_related('answers'))
    current = dict(RiskAssessment.objects.filter(change=change).values_list('question_id', 'answer_id'))
    may_answer = change.state in risk.ANSWERABLE_STATES and user.has_role(*risk.ANSWER_ROLES)
    may_refresh = change.state in risk.REFRESHABLE_STATES and user.has_role(*risk.MANAGER_ROLES)
    signals = [(RiskSignal(key), value) for key, value in result.signals.items()]
    return {
        'change': change,
        'result': result,
        'signals': signals,
        'labels': {
            'level': risk.level_label(result.level),
            'questionnaire': risk.level_label(result.questionnaire_level),
            'stored': risk.level_label(change.risk_level),
        },
        'level_colours': LEVEL_COLOURS,
        'form': form or QuestionnaireForm(questions=questions, current=current),
        'has_questions': bool(questions),
        'may_answer': may_answer,
        'may_refresh': may_refresh,
    }


class ChangeRiskMixin(StaffOnlyMixin, ObjectViewMixin):
    queryset = Change.objects.all()
    permission_action = 'view'

    def change(self) -> Change:
        return self.get_object()

    def panel(self, change: Change, *, form=None, status: int = 200):
        context = panel_context(change, self.request.user, form=form)
        return render(self.request, 'changes/_risk_panel.html', context, status=status)


class ChangeRiskPanelView(ChangeRiskMixin, View):
    """GET: the panel (htmx fragment, included in the change page)."""

    def get(self, request, number):
        return self.panel(self.change())


class ChangeRiskAnswerView(ChangeRiskMixin, View):
    """POST the questionnaire: answers stored, the panel comes back (or the change page without htmx)."""

    def post(self, request, number):
        change = self.change()
        questions = list(RiskQuestion.objects.filter(active=True).prefetch_related('answers'))
        form = QuestionnaireForm(request.POST, questions=questions, current={})
        if form.is_valid():
            try:
                risk.answer_questionnaire(change=change, actor=self.actor(), answers=form.answers())
            except (ValidationError, ApplicationError) as error:
                if isinstance(error, ApplicationError) and error.status_code == 403:
                    raise PermissionDenied(error.detail) from None
                form.add_error(None, error_text(error))
        if form.errors:
            if request.headers.get('HX-Request'):
                return self.panel(change, form=form, status=400)
            messages.error(request, ' '.join(str(e) for errors in form.errors.values() for e in errors))
            return HttpResponseRedirect(change.get_absolute_url())
        change.refresh_from_db()
        if request.headers.get('HX-Request'):
            return self.panel(change)
        messages.success(request, f'Risk questionnaire saved: {risk.level_label(change.questionnaire_level)}.')
        return HttpResponseRedirect(change.get_absolute_url())


class ChangeRiskRefreshView(ChangeRiskMixin, View):
    """POST: assess the risk again from today's signals (change managers)."""

    def post(self, request, number):
        change = self.change()
        try:
            risk.risk_refresh(change=change, actor=self.actor())
        except ApplicationError as error:
            if error.status_code == 403:
                raise PermissionDenied(error.detail) from None
            messages.error(request, error.detail)
            return HttpResponseRedirect(change.get_absolute_url())
        change.refresh_from_db()
        if request.headers.get('HX-Request'):
            return self.panel(change)
        messages.success(request, f'Risk assessed again: {risk.level_label(change.risk_level)}.')
        return HttpResponseRedirect(change.get_absolute_url())


def _crud(prefix: str, model: str, views: tuple) -> list:
    listing, detail, create, edit, delete = views
    return [
        path(f'{prefix}/', listing.as_view(), name=f'{model}_list'),
        path(f'{prefix}/add/', create.as_view(), name=f'{model}_add'),
        path(f'{prefix}/<int:pk>/', detail.as_view(), name=f'{model}_detail'),
        path(f'{prefix}/<int:pk>/edit/', edit.as_view(), name=f'{model}_edit'),
        path(f'{prefix}/<int:pk>/delete/', delete.as_view(), name=f'{model}_delete'),
    ]


# Included by changes/urls.py (`changes:riskquestion_list`, ..., `changes:change_risk`).
risk_urls = [
    *_crud(
        'risk/questions',
        'riskquestion',
        (
            RiskQuestionListView,
            RiskQuestionDetailView,
            RiskQuestionCreateView,
            RiskQuestionEditView,
            RiskQuestionDeleteView,
        ),
    ),
    *_crud(
        'risk/answers',
        'riskanswer',
        (RiskAnswerListView, RiskAnswerDetailView, RiskAnswerCreateView, RiskAnswerEditView, RiskAnswerDeleteView),
    ),
    *_crud(
        'risk/bands',
        'riskband',
        (RiskBandListView, RiskBandDetailView, RiskBandCreateView, RiskBandEditView, RiskBandDeleteView),
    ),
    *_crud(
        'risk/rules',
        'riskrule',
        (RiskRuleListView, RiskRuleDetailView, RiskRuleCreateView, RiskRuleEditView, RiskRuleDeleteView),
    ),
    *_crud(
        'risk/change-answers',
        'riskassessment',
        (
            RiskAssessmentListView,
            RiskAssessmentDetailView,
            RiskAssessmentCreateView,
            RiskAssessmentEditView,
            RiskAssessmentDeleteView,
        ),
    ),
    path('<str:number>/risk/', ChangeRiskPanelView.as_view(), name='change_risk'),
    path('<str:number>/risk/answers/', ChangeRiskAnswerView.as_view(), name='change_risk_answers'),
    path('<str:number>/risk/refresh/', ChangeRiskRefreshView.as_view(), name='change_risk_refresh'),
]


def risk_slot(request, change: Change) -> dict[str, Any]:
    """The change page's risk card: a slot the panel loads into after the page (no query here)."""
    return {'url': reverse('changes:change_risk', args=[change.number])}
