"""Pages of any process record: its page with the htmx refresh, one page per declared action, comments and files.

A record type describes its page once with a `RecordPage` (the records with what the page shows, the templates that
fill the layout of `records/detail.html`, what else the page shows); `record_routes` turns that page and the type's
`ActionSet` into URL patterns::

    urlpatterns = record_routes(ProblemPage(), 'problems', 'problem', edit_view=ProblemEditView)

gives `problems/<number>/` (`<namespace>:problem_detail`), `.../edit/` (`problem_edit`), one `.../<action-slug>/`
per action on a record (`problem_<action>`), `.../comment/` and `.../attach/`; the namespace is the ActionSet's.

Every change answers the same way. With htmx, success answers the element that asked (the action panel, the comment
box, the files card) and swaps the header, summary, facts and history out of band (`records/_refresh.html`); a
refusal answers the form again with the reason and the input kept, with the status the service gave (400, 403 or
409) and the inline-error header. Without htmx, the same happens through full pages and redirects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, register_converter, reverse
from django.views import View

from itsm import conversation
from itsm.errors import ApplicationError
from itsm.forms import AttachmentForm, CommentForm
from itsm.permissions import user_can
from itsm.selectors import timeline_for
from itsm.services import record_seen
from itsm.workflow import Action

from .generic import (
    ObjectEditView,
    ObjectViewMixin,
    StaffOnlyMixin,
    add_service_errors,
    error_text,
    inline_error,
    object_url,
    safe_next,
)
from .live import shown_record_version

__all__ = (
    'BoundAction',
    'RecordActionView',
    'RecordAttachView',
    'RecordCommentView',
    'RecordDetailView',
    'RecordEditView',
    'RecordPage',
    'RecordRelatedView',
    'find_record',
    'panels_for',
    'record_routes',
    'record_url',
    'register_panel',
    'run_action',
)


class RecordNumberConverter:
    """A record's reference number in a URL (`INC0001001`, in any case); views get it in capitals."""

    regex = '[A-Za-z]{1,8}[0-9]{1,12}'

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(RecordNumberConverter, 'recordnumber')


def model_name(record) -> str:
    """The record's kind as URL names, service arguments and element ids spell it (`ticket` for incidents too)."""
    return record._meta.concrete_model._meta.model_name


def find_record(records, number: str):
    """The record of `records` numbered `number` (or once so, where the queryset has `by_number`), else 404."""
    number = str(number).upper()
    matching = records.by_number(number) if hasattr(records, 'by_number') else records.filter(number=number)
    record = matching.first()
    if record is None:
        raise Http404(f'No {records.model._meta.verbose_name} {number}.')
    return record


def record_url(record, what: str) -> str:
    """`<namespace>:<model>_<what>` of a record (`detail`, `edit`, `comment`, an action's name); '' if not routed."""
    try:
        return reverse(f'{record.actions.namespace}:{model_name(record)}_{what}', kwargs={'number': record.number})
    except NoReverseMatch:
        return ''


# The event an htmx answer sends after a change, for parts of the page that refresh themselves (the SLA panel).
RECORD_CHANGED_EVENT = 'pc-record-changed'


def changed(response: HttpResponse) -> HttpResponse:
    """Tell the page (`HX-Trigger`) that its record changed."""
    response['HX-Trigger'] = RECORD_CHANGED_EVENT
    return response


def run_action(action: Action, record, *, actor, data: dict[str, Any]):
    """Call the action's service once with the record (as `<model name>=`, e.g. `ticket=`, or as its action set's
    `record_argument`; none for an action on no one record), the actor and the validated input, renamed by the
    action's `arguments`."""
    kwargs = action.service_kwargs(data)
    if record is not None:
        kwargs[record.actions.record_argument or model_name(record)] = record
    return action.service_function()(actor=actor, **kwargs)


def acted_on(record, result):
    """The record to show after an action: the service's answer when that is the record (a conversion renumbers
    it), else the record itself (services that answer with what they made: an update, a validation)."""
    if record is not None and not isinstance(result, record._meta.concrete_model):
        return record
    return result


@dataclass(frozen=True)
class RecordPanel:
    """A card another app adds to a record type's page, below its facts (`records/_facts.html`).

    This is how an app that depends on a record's app shows itself on that record's page without the record's app
    knowing it (incidents never import problems: the problems app shows an incident's problem, and the buttons to
    raise or link one, through a panel). A panel rather than an action added to the record's `ActionSet`: the
    ActionSet is the record's own declaration, which its generated workflow tests enumerate action by action; a
    panel leaves that declaration whole, and the contributing app routes, guards and tests its own pages and
    endpoints. Panels are swapped with the facts after every change on the page; on a page with a
    `related_template` they come after it, with the related records (`RecordRelatedView`).

    `context(request, record)` returns what the template needs, or None to show nothing; it should cost the same
    number of queries whatever the record holds.
    """

    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]


_panels: dict[type, list[RecordPanel]] = {}


def register_panel(model: type, template: str, context: Callable[[Any, Any], dict[str, Any] | None]) -> None:
    """Show `template` on the pages of `model` (and its proxies); call from the contributing app's `ready()`."""
    panel = RecordPanel(template, context)
    registered = _panels.setdefault(model._meta.concrete_model, [])
    if panel not in registered:
        registered.append(panel)


def panels_for(request, record) -> list[dict[str, Any]]:
    """The contributed panels of `record`'s page, each as its template's context plus `template`."""
    shown = []
    for panel in _panels.get(record._meta.concrete_model, ()):
        context = panel.context(request, record)
        if context is not None:
            shown.append({**context, 'template': panel.template})
    return shown


@dataclass(frozen=True)
class BoundAction:
    """An action as one record's page offers it: where it is sent and what its button says."""

    action: Action
    url: str
    label: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.action, name)


class RecordPage:
    """How one kind of process record shows on its pages. Subclass it per record type.

    `template_name` is `records/detail.html` or a template extending it (blocks: summary, conversation, timeline,
    facts, sidebar, attachments). The header, summary and facts are swapped again after each change; a record type
    names its own, each extending the generic one: `records/_header.html` (breadcrumbs, badges, byline, actions:
    the toolbar and "More" menu of `available_actions`), `records/_summary.html` (notes), `records/_facts.html`
    (people, classification, milestones, related) and `records/_comment_form.html` (tools, hint).

    A type that names a `related_template` (extending `records/_related.html`) shows its related records and the
    other apps' panels after the page, from `<number>/related/` (`<name>_related`), which the facts ask for as soon
    as they are drawn, and again each time they are swapped: the page itself then costs only the record, its
    history and files, and the panels' queries run in a request of their own (`related_context`,
    `related_queryset`).
    """

    model = None
    queryset = None  # the records with what the page shows (select_related...), from a selector
    template_name = 'records/detail.html'
    header_template = 'records/_header.html'
    summary_template = 'records/_summary.html'
    facts_template = 'records/_facts.html'
    comment_template = 'records/_comment_form.html'
    fields_template = 'records/_fields.html'  # the fields of the edit panel
    related_template = ''  # the related records and panels, drawn after the page; '' draws the panels in the facts
    related_queryset = None  # the records with what `related_template` shows; the page's `queryset` when None
    comment_form_class = CommentForm
    attach_form_class = AttachmentForm

    def get_queryset(self):
        return self.queryset.all() if self.queryset is not None else self.model._default_manager.all()

    def get_related_queryset(self):
        return self.related_queryset.all() if self.related_queryset is not None else self.get_queryset()

    def get_record(self, number: str):
        return find_record(self.get_queryset(), number)

    def can_work(self, user, record) -> bool:
        """Whether `user` works the record as staff: writes in its conversation, adds files, edits it."""
        return record.may_work(user) and user_can(user, self.model, 'change')

    def available_actions(self, user, record) -> list[BoundAction]:
        """The actions `user` may take on the record now (the action's permission, then its guard)."""
        return [
            BoundAction(action, record_url(record, action.name), action.label_of(record))
            for action in record.actions.available(record, user)
            if user_can(user, self.model, action.permission)
        ]

    def extra_context(self, request, record) -> dict[str, Any]:
        """What the record type's own templates show besides the shared parts."""
        return {}

    def related_context(self, request, record) -> dict[str, Any]:
        """What `related_template` shows besides the contributed panels."""
        return {}

    def base_context(self, record) -> dict[str, Any]:
        """What every fragment about the record needs: the record (as `object` and by its model name)."""
        name = model_name(record)
        return {'object': record, name: record, 'record_dom': name, 'record_page': self, 'opts': record._meta}

    def context(self, request, record, **extra) -> dict[str, Any]:
        """Everything the page and its refreshed fragments show."""
        user = request.user
        actions = self.available_actions(user, record)
        working = self.can_work(user, record)
        timeline = list(timeline_for(record))[::-1]
        later = bool(self.related_template)
        context = {
            **self.base_context(record),
            'title': str(record),
            'timeline': timeline,
            'live_shown': shown_record_version(record, timeline),
            'timeline_visibility': True,
            'attachments': list(record.attachments.select_related('uploaded_by')),
            'toolbar_actions': [a for a in actions if not a.in_menu],
            'menu_actions': [a for a in actions if a.in_menu],
            'can_work': working,
            'can_edit': working and not record.is_final,
            'edit_url': record_url(record, 'edit'),
            'comment_url': record_url(record, 'comment'),
            'attach_url': record_url(record, 'attach'),
            'comment_form': self.comment_form_class(),
            'attach_form': self.attach_form_class(),
            'record_panels': [] if later else panels_for(request, record),
            'related_url': record_url(record, 'related') if later else '',
            **self.extra_context(request, record),
        }
        context.update(extra)
        return context

    def render_related(self, request, record):
        """The related records and contributed panels (`related_template`): the fragment the page asks for, or,
        without htmx (a browser without scripts follows the page's link), a page of its own."""
        context = {
            **self.base_context(record),
            'title': f'{record.number}: related records',
            'can_work': self.can_work(request.user, record),
            'record_panels': panels_for(request, record),
            'related_template': self.related_template,
            **self.related_context(request, record),
        }
        template = self.related_template if request.htmx else 'records/related_page.html'
        return render(request, template, context)

    def render(self, request, record, *, template: str = '', status: int = 200, **extra):
        context = self.context(request, record, **extra)
        return render(request, template or self.template_name, context, status=status)

    def refresh(self, request, record, *, primary: str = 'records/_panel.html', status: int = 200, **extra):
        """The htmx answer after a change or a refusal: `primary` for the element that asked (the action panel by
        default), then the header, summary, facts and history swapped out of band."""
        response = self.render(
            request, record, template='records/_refresh.html', status=status, primary=primary, **extra
        )
        return inline_error(response) if status >= 400 else response


class RecordViewMixin(StaffOnlyMixin, ObjectViewMixin):
    """A desk page about one record of `page.model`, named by the URL's `number`."""

    page: RecordPage | None = None

    def get_permission_model(self):
        return self.page.model

    def get_record(self, records=None):
        # Only a record the person may see (`visible_to`): a restricted one is a 404 to everyone else.
        records = self.page.get_queryset() if records is None else records
        if hasattr(records, 'visible_to'):
            records = records.visible_to(self.request.user)
        return find_record(records, self.kwargs['number'])


class RecordDetailView(RecordViewMixin, View):
    """A record with its actions, conversation, files and history. A former number leads to the current one."""

    permission_action = 'view'

    def redirect_url(self, record) -> str:
        """Where the record is shown instead of here ('' for here)."""
        return record.get_absolute_url() if record.number != self.kwargs['number'].upper() else ''

    def get(self, request, *args, **kwargs):
        record = self.get_record()
        url = self.redirect_url(record)
        if url:
            return redirect(url)
        # Someone working the record has seen it: the queues stop marking it; this page still says why it was.
        seen = record_seen(record, request.user)
        return self.page.render(request, record, attention_seen=seen)


class RecordRelatedView(RecordViewMixin, View):
    """The related records and other apps' panels of a record whose page draws them after itself
    (`RecordPage.related_template`); who may see the record may see them."""

    permission_action = 'view'

    def get(self, request, *args, **kwargs):
        return self.page.render_related(request, self.get_record(self.page.get_related_queryset()))


class RecordActionView(RecordViewMixin, View):
    """One declared action, named by the URL's `action`, with the model permission the action declares.

    GET shows the action's form; POST validates it and calls the action's service once. An action on no one record
    (`detail=False`, such as accept-next) takes POSTs only, then opens the record it acted on, or goes back (`next`,
    else `back_url`) saying `nothing_message`.
    """

    done_message = ''  # instead of the action's `done`, formatted with the record
    nothing_message = 'Nothing to do.'
    back_url = ''  # URL (name) to go back to without `next`; the record list when empty

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.action = self.page.model.actions.get(kwargs['action'])
        self.permission_action = self.action.permission
        if not self.action.detail:
            self.http_method_names = ['post', 'options']

    def bound(self, record) -> BoundAction:
        return BoundAction(self.action, record_url(record, self.action.name), self.action.label_of(record))

    def make_form(self, record, data=None):
        return self.action.form_class()(data, record=record, user=self.request.user)

    def message(self, record) -> str:
        if self.done_message:
            return self.done_message.format(record=record)
        return self.action.message(record) or f'{self.action.label_of(record)}: done for {record.number}.'

    def get(self, request, *args, **kwargs):
        record = self.get_record()
        context = {'panel_action': self.bound(record), 'panel_form': self.make_form(record), 'next': safe_next(request)}
        if request.htmx:
            return render(request, 'records/_action_form.html', {**self.page.base_context(record), **context})
        return self.page.render(request, record, **context)

    def post(self, request, *args, **kwargs):
        if not self.action.detail:
            return self.post_without_record()
        record = self.get_record()
        form = self.make_form(record, request.POST)
        if not form.is_valid():
            return self.refused(record, form, 400)
        try:
            updated = acted_on(record, run_action(self.action, record, actor=self.actor(), data=form.service_kwargs()))
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            # Read again: a refused service may have changed its copy before it gave up.
            return self.refused(self.get_record(), form, getattr(error, 'status_code', 400), error)
        return self.done(self.page.get_record(updated.number))

    def done(self, record):
        message = self.message(record)
        if self.request.htmx:
            if record.number != self.kwargs['number'].upper():  # converted: the page's address changed
                messages.success(self.request, message)
                response = HttpResponse(status=204)
                response['HX-Redirect'] = record.get_absolute_url()
                return response
            return changed(self.page.refresh(self.request, record, message=message))
        messages.success(self.request, message)
        return redirect(safe_next(self.request) or record.get_absolute_url())

    def refused(self, record, form, status: int, error=None):
        back = safe_next(self.request)
        if back and error is not None and not self.request.htmx:
            # A one-click action from a list (Accept in a queue row): report there.
            messages.error(self.request, error_text(error))
            return redirect(back)
        context = {'panel_action': self.bound(record), 'panel_form': form, 'next': back}
        if self.request.htmx:
            return self.page.refresh(self.request, record, status=status, **context)
        return self.page.render(self.request, record, status=status, **context)

    def post_without_record(self):
        back = safe_next(self.request) or self.back_url or object_url(self.page.model, 'list')
        try:
            record = run_action(self.action, None, actor=self.actor(), data={})
        except (ValidationError, ApplicationError) as error:
            messages.error(self.request, error_text(error))
            return redirect(back)
        if record is None:
            messages.info(self.request, self.nothing_message)
            return redirect(back)
        messages.success(self.request, self.message(record))
        return redirect(record.get_absolute_url())


class RecordConversationView(RecordViewMixin, View, ABC):
    """POST one small form about a record (a comment, a file); answers like the actions do."""

    permission_action = 'change'
    http_method_names = ['post']
    form_name = ''  # the form's name in the page's context

    @abstractmethod
    def get_form(self):
        """The bound form of the request."""

    @abstractmethod
    def get_fragment(self) -> str:
        """The template of the element that asked, answered again (with the refusal, or refreshed)."""

    @abstractmethod
    def call(self, record, form) -> None:
        """Run the conversation service with the form's input."""

    def post(self, request, *args, **kwargs):
        record = self.get_record()
        form = self.get_form()
        status = 400
        if form.is_valid():
            try:
                self.call(record, form)
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
            else:
                message = form.success_message(record)
                if request.htmx:
                    return changed(self.page.refresh(request, record, message=message, primary=self.get_fragment()))
                messages.success(request, message)
                return redirect(record.get_absolute_url())
        if request.htmx:
            return inline_error(
                self.page.render(request, record, template=self.get_fragment(), status=status, **{self.form_name: form})
            )
        return self.page.render(request, record, status=status, **{self.form_name: form})


class RecordCommentView(RecordConversationView):
    """A work note (internal) or a comment the record's requesters see."""

    form_name = 'comment_form'

    def get_form(self):
        return self.page.comment_form_class(self.request.POST)

    def get_fragment(self) -> str:
        return self.page.comment_template

    def call(self, record, form):
        conversation.comment(record, actor=self.actor(), **form.service_kwargs())


class RecordAttachView(RecordConversationView):
    form_name = 'attach_form'

    def get_form(self):
        return self.page.attach_form_class(self.request.POST, self.request.FILES)

    def get_fragment(self) -> str:
        return 'records/_attachments.html'

    def call(self, record, form):
        conversation.attach(record, actor=self.actor(), **form.service_kwargs())


class RecordEditView(RecordViewMixin, ObjectEditView):
    """The record's descriptive fields: a full page, or (htmx) a panel on the record's page that refreshes it."""

    def get_object(self):
        return self.get_record()

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        if obj is not None:
            context.update(self.page.base_context(obj), edit_url=record_url(obj, 'edit'))
        return context

    def get(self, request, *args, **kwargs):
        if not request.htmx:
            return super().get(request, *args, **kwargs)
        record = self.get_object()
        return render(request, 'records/_edit_panel.html', self.form_context(self.get_form(instance=record), record))

    def post(self, request, *args, **kwargs):
        if not request.htmx:
            return super().post(request, *args, **kwargs)
        record = self.get_object()
        form = self.get_form(instance=record)
        status = 400
        if form.is_valid():
            try:
                saved = self.save(form)
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
            else:
                return self.page.refresh(
                    request, self.page.get_record(saved.number), message=f'{saved.number} updated.'
                )
        context = self.form_context(form, record)
        return inline_error(render(request, 'records/_edit_panel.html', context, status=status))


def record_routes(page: RecordPage, prefix: str, name: str, *, detail_view=RecordDetailView, edit_view=None, **detail):
    """URL patterns of one record type's pages under `<prefix>/<number>/`: `<name>_detail`, `<name>_edit` (with an
    `edit_view`), `<name>_related` (with the page's `related_template`), `<name>_<action>` for each action on a
    record, `<name>_comment` and `<name>_attach`. `detail` goes to the detail view (`kind='incident'`)."""
    number = f'{prefix}/<recordnumber:number>/'
    routes = [path(number, detail_view.as_view(page=page, **detail), name=f'{name}_detail')]
    if page.related_template:
        routes.append(path(f'{number}related/', RecordRelatedView.as_view(page=page), name=f'{name}_related'))
    if edit_view is not None:
        routes.append(path(f'{number}edit/', edit_view.as_view(page=page), name=f'{name}_edit'))
    for action in page.model.actions:
        if action.detail:
            view = RecordActionView.as_view(page=page)
            routes.append(path(f'{number}{action.slug}/', view, {'action': action.name}, name=f'{name}_{action.name}'))
    return [
        *routes,
        path(f'{number}comment/', RecordCommentView.as_view(page=page), name=f'{name}_comment'),
        path(f'{number}attach/', RecordAttachView.as_view(page=page), name=f'{name}_attach'),
    ]
