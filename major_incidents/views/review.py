"""Post-incident review pages: the review of a major incident (`/major-incidents/<number>/review/`) with its merged
timeline and action items, its edit form, opening a problem for the root cause, and the action items across reviews
(mine, overdue, all) with their add, edit, done and reopen forms.

Staff read; the review's writers (`review.may_write_review`) write; people who only raise requests are refused.
Every write goes through `major_incidents.review`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views import View

from itsm.audit import Actor
from itsm.choices import Role
from itsm.errors import ApplicationError
from itsm.models import User
from itsm.views.generic import StaffOnlyMixin, add_service_errors, error_text
from itsm.views.records import find_record

from .. import review as reviews
from ..choices import ProcessRating
from ..models import ActionItem, MajorIncident, PostIncidentReview

__all__ = ['review_urls']

LIST_VIEWS = {'mine': 'Mine', 'overdue': 'Overdue', 'all': 'All open'}
DATETIME_FORMATS = ['%Y-%m-%dT%H:%M', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S']


def staff_people():
    """Active people who work at the desk (anyone holding a role beyond requester): who may own an action."""
    roles = [role for role in Role.values if role != Role.REQUESTER]
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=roles))
        .distinct()
        .order_by('first_name', 'last_name', 'username')
    )


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = 'datetime-local'

    def __init__(self, **kwargs):
        super().__init__(format='%Y-%m-%dT%H:%M:%S', attrs={'step': 1}, **kwargs)


class ReviewForm(forms.Form):
    outage_started_at = forms.DateTimeField(
        label='Outage started', input_formats=DATETIME_FORMATS, widget=LocalDateTimeInput()
    )
    outage_ended_at = forms.DateTimeField(
        label='Outage ended', required=False, input_formats=DATETIME_FORMATS, widget=LocalDateTimeInput()
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False, help_text='What happened.')
    root_cause = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False)
    what_went_well = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False)
    what_went_badly = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False)
    process_rating = forms.TypedChoiceField(
        label='How well the process was followed',
        choices=[('', '—'), *ProcessRating.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    process_notes = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False)


class ActionItemForm(forms.Form):
    description = forms.CharField(max_length=300)
    owner = forms.ModelChoiceField(queryset=User.objects.none())
    due_date = forms.DateField(widget=forms.DateInput(attrs={'type': 'date'}))
    notes = forms.CharField(widget=forms.Textarea(attrs={'rows': 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['owner'].queryset = staff_people()


class DoneForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text='Why the action is not done after all.')


class ReviewAccessMixin(LoginRequiredMixin, StaffOnlyMixin):
    """Staff who may read reviews; writes also need `review.may_write_review` (the service checks it again)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm('major_incidents.view_postincidentreview'):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def major(self, number: str) -> MajorIncident:
        return find_record(
            MajorIncident.objects.select_related(
                'incident_manager', 'tech_lead', 'communications_lead', 'service_owner', 'business_owner'
            ),
            number,
        )

    def require_writer(self, major: MajorIncident) -> None:
        if not reviews.may_write_review(major, self.request.user):
            raise PermissionDenied

    def actor(self) -> Actor:
        return Actor.from_request(self.request)


def may_raise_problems(user) -> bool:
    """Whether `user` may log the problem for the root cause (the problems app's rule), so no button leads to a
    refusal."""
    from problems.services import RAISER_ROLES

    return user.has_role(*RAISER_ROLES)


def _review_of(major: MajorIncident) -> PostIncidentReview | None:
    return PostIncidentReview.objects.filter(major_incident=major).select_related('problem', 'author').first()


class ReviewView(ReviewAccessMixin, View):
    """The review page; POST starts the review."""

    def get(self, request, number):
        major = self.major(number)
        review = _review_of(major)
        items = []
        if review is not None:
            items = list(review.action_items.select_related('owner', 'done_by').order_by('done_at', 'due_date', 'pk'))
        on = reviews.today()
        for item in items:
            item.overdue = reviews.is_overdue(item, on=on)
        context = {
            'title': f'Post-incident review of {major.number}',
            'major': major,
            'review': review,
            'items': items,
            'timeline': reviews.review_timeline(major),
            'may_write': reviews.may_write_review(major, request.user),
            'may_open_problem': may_raise_problems(request.user),
            'restored': major.state in reviews.REVIEWABLE_STATES,
            'problem_open': review is not None and review.problem is not None and not review.problem.is_final,
        }
        return render(request, 'major_incidents/review.html', context)

    def post(self, request, number):
        major = self.major(number)
        self.require_writer(major)
        try:
            reviews.review_start(major=major, actor=self.actor())
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(reverse('major_incidents:review', args=[major.number]))
        messages.success(request, f'The post-incident review of {major.number} is started.')
        return HttpResponseRedirect(reverse('major_incidents:review_edit', args=[major.number]))


def _edited(review: PostIncidentReview, data: dict) -> dict:
    """The form's values, without the outage moments it shows unchanged: the form carries whole seconds, so a
    moment left alone must not overwrite the recorded one (nor turn a short outage into an empty one)."""
    values = dict(data)
    for name in ('outage_started_at', 'outage_ended_at'):
        recorded = getattr(review, name)
        given = values.get(name)
        if given is not None and recorded is not None and given == recorded.replace(microsecond=0):
            del values[name]
    return values


class ReviewEditView(ReviewAccessMixin, View):
    """The review's form; the review is started on the first save if it has not been."""

    def render_form(self, major, form, status=200):
        context = {'title': f'Edit the review of {major.number}', 'major': major, 'form': form}
        return render(self.request, 'major_incidents/review_form.html', context, status=status)

    def get(self, request, number):
        major = self.major(number)
        self.require_writer(major)
        review = _review_of(major)
        if review is None:
            initial = {'outage_started_at': major.outage_started_at, 'outage_ended_at': major.restored_at}
        else:
            initial = {name: getattr(review, name) for name in reviews.REVIEW_FIELDS}
        return self.render_form(major, ReviewForm(initial=initial))

    def post(self, request, number):
        major = self.major(number)
        self.require_writer(major)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            return self.render_form(major, form, status=400)
        try:
            review = reviews.review_start(major=major, actor=self.actor())
            reviews.review_update(review=review, actor=self.actor(), **_edited(review, form.cleaned_data))
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.render_form(major, form, status=getattr(error, 'status_code', 400))
        messages.success(request, f'The review of {major.number} is saved.')
        return HttpResponseRedirect(reverse('major_incidents:review', args=[major.number]))


class ReviewOpenProblemView(ReviewAccessMixin, View):
    def post(self, request, number):
        major = self.major(number)
        self.require_writer(major)
        review = _review_of(major)
        url = reverse('major_incidents:review', args=[major.number])
        if review is None:
            messages.error(request, f'Start the review of {major.number} before opening a problem.')
            return HttpResponseRedirect(url)
        try:
            problem = reviews.review_open_problem(review=review, actor=self.actor())
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(url)
        messages.success(request, f'Problem {problem.number} is opened for the root cause of {major.number}.')
        return HttpResponseRedirect(url)


class ActionItemListView(ReviewAccessMixin, View):
    """Open action items across reviews: mine, overdue, or all."""

    def get(self, request):
        view = request.GET.get('view', 'mine')
        if view not in LIST_VIEWS:
            view = 'mine'
        on = reviews.today()
        items = ActionItem.objects.filter(done_at__isnull=True).select_related('owner', 'review__major_incident')
        if view == 'mine':
            items = items.filter(owner=request.user)
        elif view == 'overdue':
            items = items.filter(due_date__lt=on)
        items = list(items.order_by('due_date', 'pk'))
        for item in items:
            item.overdue = reviews.is_overdue(item, on=on)
        context = {'title': 'Action items', 'items': items, 'view': view, 'views': LIST_VIEWS}
        return render(request, 'major_incidents/actionitem_list.html', context)


class ActionItemFormView(ReviewAccessMixin, View):
    def render_form(self, major, form, *, item=None, status=200):
        title = f'Edit action item of {major.number}' if item else f'Add an action item to the review of {major.number}'
        context = {'title': title, 'major': major, 'form': form, 'item': item}
        return render(self.request, 'major_incidents/actionitem_form.html', context, status=status)


class ActionItemAddView(ActionItemFormView):
    def get(self, request, number):
        major = self.major(number)
        self.require_writer(major)
        return self.render_form(major, ActionItemForm())

    def post(self, request, number):
        major = self.major(number)
        self.require_writer(major)
        form = ActionItemForm(request.POST)
        if not form.is_valid():
            return self.render_form(major, form, status=400)
        try:
            review = reviews.review_start(major=major, actor=self.actor())
            reviews.action_item_add(review=review, actor=self.actor(), **form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.render_form(major, form, status=getattr(error, 'status_code', 400))
        messages.success(request, 'Action item added.')
        return HttpResponseRedirect(reverse('major_incidents:review', args=[major.number]))


def _item(pk: int) -> ActionItem:
    return get_object_or_404(ActionItem.objects.select_related('review__major_incident', 'owner'), pk=pk)


class ActionItemEditView(ActionItemFormView):
    def get(self, request, pk):
        item = _item(pk)
        major = item.review.major_incident
        self.require_writer(major)
        initial = {name: getattr(item, name) for name in reviews.ACTION_ITEM_FIELDS}
        return self.render_form(major, ActionItemForm(initial=initial), item=item)

    def post(self, request, pk):
        item = _item(pk)
        major = item.review.major_incident
        self.require_writer(major)
        form = ActionItemForm(request.POST)
        if not form.is_valid():
            return self.render_form(major, form, item=item, status=400)
        try:
            reviews.action_item_update(item=item, actor=self.actor(), **form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.render_form(major, form, item=item, status=getattr(error, 'status_code', 400))
        messages.success(request, 'Action item saved.')
        return HttpResponseRedirect(reverse('major_incidents:review', args=[major.number]))


class ActionItemDoneView(ReviewAccessMixin, View):
    def post(self, request, pk):
        item = _item(pk)
        major = item.review.major_incident
        self.require_writer(major)
        form = DoneForm(request.POST)
        note = form.cleaned_data['note'] if form.is_valid() else ''
        try:
            reviews.action_item_done(item=item, actor=self.actor(), note=note)
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f'"{item.description}" is done.')
        return HttpResponseRedirect(reverse('major_incidents:review', args=[major.number]))


class ActionItemReopenView(ReviewAccessMixin, View):
    def render_form(self, item, form, status=200):
        context = {'title': 'Reopen an action item', 'item': item, 'major': item.review.major_incident, 'form': form}
        return render(self.request, 'major_incidents/actionitem_reopen.html', context, status=status)

    def get(self, request, pk):
        item = _item(pk)
        self.require_writer(item.review.major_incident)
        return self.render_form(item, ReasonForm())

    def post(self, request, pk):
        item = _item(pk)
        major = item.review.major_incident
        self.require_writer(major)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return self.render_form(item, form, status=400)
        try:
            reviews.action_item_reopen(item=item, actor=self.actor(), reason=form.cleaned_data['reason'])
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.render_form(item, form, status=getattr(error, 'status_code', 400))
        messages.success(request, f'"{item.description}" is reopened.')
        return HttpResponseRedirect(reverse('major_incidents:review', args=[major.number]))


review_urls = [
    path('action-items/', ActionItemListView.as_view(), name='actionitem_list'),
    path('action-items/<int:pk>/edit/', ActionItemEditView.as_view(), name='actionitem_edit'),
    path('action-items/<int:pk>/done/', ActionItemDoneView.as_view(), name='actionitem_done'),
    path('action-items/<int:pk>/reopen/', ActionItemReopenView.as_view(), name='actionitem_reopen'),
    path('<recordnumber:number>/review/', ReviewView.as_view(), name='review'),
    path('<recordnumber:number>/review/edit/', ReviewEditView.as_view(), name='review_edit'),
    path('<recordnumber:number>/review/problem/', ReviewOpenProblemView.as_view(), name='review_open_problem'),
    path('<recordnumber:number>/review/action-items/add/', ActionItemAddView.as_view(), name='actionitem_add'),
]
