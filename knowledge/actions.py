"""What people can do to a knowledge article, declared once: the services, the pages and the API all read this.

Staff who work tickets write articles (knowledge-centred support): any agent or engineer drafts, edits and submits;
knowledge managers approve (publish), send back with a reason, retire and restore. The owner may retire their own
article. Anyone who may read a live article votes on it. A system job (no person) may do all of it.
"""

from __future__ import annotations

from itsm.choices import Role
from itsm.errors import NotAllowed
from itsm.roles import AGENT_ROLES
from itsm.workflow import Action, ActionSet

from .choices import KNOWLEDGE_WORKFLOW, ArticleState

MANAGER_ROLES = (Role.KNOWLEDGE_MANAGER, Role.ADMINISTRATOR)
WRITER_ROLES = (*AGENT_ROLES, Role.PROBLEM_MANAGER, *MANAGER_ROLES)


def is_knowledge_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*MANAGER_ROLES))


def may_write(article, user) -> bool:
    """Agents, engineers, incident and problem managers, knowledge managers; and the article's owner."""
    if user is None or not user.is_authenticated or user.is_requester_only:
        return False
    return user.has_role(*WRITER_ROLES) or user.pk == article.owner_id


def writers(what: str):
    def guard(article, user):
        if user is not None and not may_write(article, user):
            return NotAllowed(f'Only the desk and knowledge managers can {what}.')
        return None

    return guard


def managers_only(what: str):
    def guard(article, user):
        if user is not None and not is_knowledge_manager(user):
            return NotAllowed(f'Only a knowledge manager can {what}.')
        return None

    return guard


def may_retire(article, user):
    if user is not None and not (is_knowledge_manager(user) or user.pk == article.owner_id):
        return NotAllowed(f'Only a knowledge manager or the owner of {article.number} can retire it.')
    return None


def may_vote(article, user):
    if user is None:
        return NotAllowed('Only a person can vote on an article.')
    if not article.is_live:
        return NotAllowed(f'{article.number} is not published: there is nothing to vote on yet.')
    if user.is_requester_only and article.audience != 'everyone':
        return NotAllowed(f'{article.number} is for the desk only.')
    return None


S = ArticleState
SERVICES = 'knowledge.services'
FORMS = 'knowledge.forms'
SERIALIZERS = 'knowledge.api.serializers'

KNOWLEDGE_ACTIONS = ActionSet(
    KNOWLEDGE_WORKFLOW,
    namespace='knowledge',
    record_argument='article',
    actions=[
        Action(
            'submit',
            'Submit for review',
            f'{SERVICES}.article_submit',
            transition='submit',
            guard=writers('submit articles'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='send',
            done='{record.number} is waiting for a knowledge manager.',
            primary=True,
        ),
        Action(
            'publish',
            'Publish',
            f'{SERVICES}.article_publish',
            transition='publish',
            guard=managers_only('publish articles'),
            form=f'{FORMS}.PublishForm',
            serializer=f'{SERIALIZERS}.PublishSerializer',
            icon='world-upload',
            done='{record.number} version {record.version} is published.',
            primary=True,
            description='Approve it: readers see this version from now on (earlier versions are kept).',
        ),
        Action(
            'request_changes',
            'Request changes',
            f'{SERVICES}.article_request_changes',
            transition='request_changes',
            guard=managers_only('send articles back'),
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='arrow-back-up',
            done='{record.number} is back with its writers.',
            primary=True,
        ),
        Action(
            'revise',
            'Start a new version',
            f'{SERVICES}.article_revise',
            transition='revise',
            guard=writers('revise articles'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='pencil',
            done='A new version of {record.number} is in draft; readers still see version {record.version}.',
            in_menu=True,
        ),
        Action(
            'retire',
            'Retire',
            f'{SERVICES}.article_retire',
            transition='retire',
            guard=may_retire,
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='archive',
            done='{record.number} is retired: readers no longer find it.',
            in_menu=True,
        ),
        Action(
            'restore',
            'Restore as draft',
            f'{SERVICES}.article_restore',
            transition='restore',
            guard=managers_only('restore articles'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='restore',
            done='{record.number} is a draft again.',
            in_menu=True,
        ),
        Action(
            'vote',
            'Rate this article',
            f'{SERVICES}.article_vote',
            guard=may_vote,
            states=(S.DRAFT, S.REVIEW, S.PUBLISHED),
            form=f'{FORMS}.VoteForm',
            serializer=f'{SERIALIZERS}.VoteSerializer',
            permission='view',
            icon='thumb-up',
            done='Thank you: your rating of {record.number} is recorded.',
            in_menu=True,
        ),
    ],
)
