"""Knowledge articles (domain §12): the working copy on the process-record kit, every published version kept, votes,
views per day, reuse in resolutions, deflections in the portal, and review reminders.

Readers see an article's latest published version (`published_version`) while a new version is drafted and reviewed on
the working copy; retiring hides it. Search indexes the published version only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from itsm.records import ProcessRecord, ProcessRecordQuerySet

from .actions import KNOWLEDGE_ACTIONS
from .choices import KNOWLEDGE_WORKFLOW, ArticleState, ArticleType, Audience

USER = settings.AUTH_USER_MODEL


class ArticleQuerySet(ProcessRecordQuerySet):
    def live(self):
        """Articles readers can find: a version is published and the article is not retired."""
        return self.filter(published_version__isnull=False).exclude(state=ArticleState.RETIRED)

    def readable_by(self, user):
        """What `user` may read: requesters the live articles for everyone; staff every live article."""
        if user is None or not user.is_authenticated:
            return self.none()
        live = self.live()
        if user.is_requester_only:
            return live.filter(audience=Audience.EVERYONE)
        return live

    def visible_to(self, user):
        """What `user` may see on the desk (drafts included for staff); requesters only what they may read."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_requester_only:
            return self.readable_by(user)
        return self


class Article(ProcessRecord):
    """A knowledge article: the working copy (`short_description` is its title, `body` Markdown) and its lifecycle."""

    number_prefix = 'KB'
    number_start = 1001
    workflow = KNOWLEDGE_WORKFLOW
    actions = KNOWLEDGE_ACTIONS
    requester_fields = ()  # requesters read live articles for everyone (`readable_by`), never drafts

    state = models.CharField(max_length=12, choices=ArticleState.choices, default=ArticleState.DRAFT, editable=False)
    article_type = models.CharField('type', max_length=16, choices=ArticleType.choices, default=ArticleType.HOW_TO)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.AGENTS)
    summary = models.CharField(max_length=300, blank=True, help_text='One or two sentences shown in search results.')
    body = models.TextField(help_text='Markdown. Images inline; videos and documents as attachments.')
    owner = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='articles_owned',
        help_text='Keeps the article right and reviews it by its review date.',
    )
    review_by = models.DateField(null=True, blank=True, db_index=True, help_text='When the owner reviews it next.')
    services = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='service_articles', limit_choices_to={'ci_class': 'service'}
    )
    cis = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='articles', verbose_name='configuration items'
    )
    categories = models.ManyToManyField('incidents.Category', blank=True, related_name='articles')
    known_error = models.ForeignKey(
        'problems.KnownError',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='articles',
        help_text='The known error whose workaround this article publishes.',
    )
    source_path = models.CharField(
        max_length=300, blank=True, editable=False, help_text='The Markdown file it was imported from (docs as code).'
    )
    source_digest = models.CharField(max_length=64, blank=True, editable=False)

    # What readers see: the latest published version, its number and when it went out.
    published_version = models.ForeignKey(
        'ArticleVersion', null=True, blank=True, on_delete=models.SET_NULL, related_name='+', editable=False
    )
    version = models.PositiveIntegerField(
        default=0, editable=False, help_text='Number of the latest published version.'
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    retire_reason = models.CharField(max_length=300, blank=True, editable=False)

    # Counters kept by the services (one UPDATE each), so lists and ranking read no aggregate.
    view_count = models.PositiveIntegerField(default=0, editable=False)
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(default=0, editable=False)
    use_count = models.PositiveIntegerField(default=0, editable=False, help_text='Incidents it helped resolve.')
    deflection_count = models.PositiveIntegerField(default=0, editable=False, help_text='Reports it ended.')

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ['-opened_at']
        indexes = [
            models.Index(fields=['state', 'audience', 'article_type'], name='knowledge_state_audience'),
            models.Index(fields=['owner', 'state'], name='knowledge_owner_state'),
            models.Index(fields=['published_at'], name='knowledge_published_at'),
        ]

    def get_absolute_url(self) -> str:
        return reverse('knowledge:article_detail', args=[self.number])

    @property
    def title(self) -> str:
        return self.short_description

    @property
    def is_live(self) -> bool:
        return self.published_version_id is not None and self.state != ArticleState.RETIRED


class ArticleVersion(models.Model):
    """One published version, kept for good: what readers saw, who approved it and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name='versions')
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    article_type = models.CharField(max_length=16, choices=ArticleType.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    change_note = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    approved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    published_at = models.DateTimeField()

    class Meta:
        ordering = ['article', '-version']
        constraints = [models.UniqueConstraint(fields=['article', 'version'], name='knowledge_one_version_number')]

    def __str__(self) -> str:
        return f'{self.article.number} v{self.version}'

    def get_absolute_url(self) -> str:
        return reverse('knowledge:article_version', args=[self.article.number, self.version])


class ArticleVote(models.Model):
    """Helpful or not, with a comment: one per person and article (a new vote replaces theirs)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name='votes')
    version = models.PositiveIntegerField(help_text='The version the reader saw.')
    voter = models.ForeignKey(USER, on_delete=models.CASCADE, related_name='article_votes')
    helpful = models.BooleanField()
    comment = models.CharField(max_length=500, blank=True)
    voted_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ['-voted_at']
        constraints = [models.UniqueConstraint(fields=['article', 'voter'], name='knowledge_one_vote_per_person')]

    def __str__(self) -> str:
        return f'{self.article.number}: {"helpful" if self.helpful else "not helpful"} ({self.voter})'

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()


class ArticleViewDay(models.Model):
    """Views of an article on one day (measures per period without a row per view)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name='view_days')
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ['-day']
        constraints = [models.UniqueConstraint(fields=['article', 'day'], name='knowledge_one_view_row_per_day')]
        indexes = [models.Index(fields=['day'], name='knowledge_view_day')]

    def __str__(self) -> str:
        return f'{self.article.number} {self.day}: {self.views}'


class ArticleUse(models.Model):
    """An article that helped resolve an incident ("used to resolve")."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name='uses')
    incident = models.ForeignKey('incidents.Ticket', on_delete=models.CASCADE, related_name='article_uses')
    used_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ['-used_at']
        constraints = [models.UniqueConstraint(fields=['article', 'incident'], name='knowledge_one_use_per_incident')]

    def __str__(self) -> str:
        return f'{self.article.number} → {self.incident.number}'

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()


class Deflection(models.Model):
    """A report the portal never had to log: the requester said an article solved it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name='deflections')
    requester = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    query = models.CharField(max_length=200, blank=True, help_text='What they had typed.')
    deflected_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ['-deflected_at']

    def __str__(self) -> str:
        return f'{self.article.number} ended a report ({self.deflected_at:%Y-%m-%d})'

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()


class ReviewReminder(models.Model):
    """The reminder sent to an article's owner for one review date. Unique per date, so overlapping beats send it
    once."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name='review_reminders')
    review_by = models.DateField()
    sent_to = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ['-sent_at']
        constraints = [
            models.UniqueConstraint(fields=['article', 'review_by'], name='knowledge_one_reminder_per_review_date')
        ]

    def __str__(self) -> str:
        return f'{self.article.number}: review due {self.review_by}'

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()
