"""Article types, audiences and the knowledge lifecycle of domain §12, as data."""

from django.db import models

from itsm.workflow import Transition, Workflow


class ArticleState(models.TextChoices):
    DRAFT = 'draft', 'Draft'
    REVIEW = 'review', 'In review'
    PUBLISHED = 'published', 'Published'
    RETIRED = 'retired', 'Retired'


class ArticleType(models.TextChoices):
    HOW_TO = 'how_to', 'How-to'
    FAQ = 'faq', 'FAQ'
    TROUBLESHOOTING = 'troubleshooting', 'Troubleshooting'
    KNOWN_ERROR = 'known_error', 'Known-error workaround'
    REFERENCE = 'reference', 'Reference'


class Audience(models.TextChoices):
    """Who may read a published article: the desk only, or requesters in the portal too."""

    AGENTS = 'agents', 'Agents only'
    EVERYONE = 'everyone', 'Requesters and agents'


STATE_COLOURS = {
    ArticleState.DRAFT: 'secondary',
    ArticleState.REVIEW: 'yellow',
    ArticleState.PUBLISHED: 'green',
    ArticleState.RETIRED: 'dark',
}

S = ArticleState
# A published article stays readable (its latest published version) while a new version is drafted and reviewed:
# `revise` moves the working copy back to draft without unpublishing what readers see.
KNOWLEDGE_WORKFLOW = Workflow(
    field='state',
    states=ArticleState,
    triage=(S.DRAFT,),
    awaiting_acceptance=(),
    paused=(),
    finished=(S.PUBLISHED, S.RETIRED),
    final=(),  # a retired article can be restored as a draft
    transitions=[
        Transition('submit', 'Submit for review', sources=(S.DRAFT,), target=S.REVIEW),
        Transition('request_changes', 'Request changes', sources=(S.REVIEW,), target=S.DRAFT),
        Transition('publish', 'Publish', sources=(S.REVIEW,), target=S.PUBLISHED),
        Transition('revise', 'Start a new version', sources=(S.PUBLISHED,), target=S.DRAFT),
        Transition('retire', 'Retire', sources=(S.DRAFT, S.REVIEW, S.PUBLISHED), target=S.RETIRED),
        Transition('restore', 'Restore as draft', sources=(S.RETIRED,), target=S.DRAFT),
    ],
)
