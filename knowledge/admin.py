"""Admin for the knowledge base: every model listed and searchable, read-only. Articles change through the services
(which keep the timeline, the published versions, the counters and the search index), votes, uses and deflections
are counted by them, and versions are kept for good."""

from django.contrib import admin

from .models import Article, ArticleUse, ArticleVersion, ArticleViewDay, ArticleVote, Deflection, ReviewReminder


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = [
        'number',
        'short_description',
        'state',
        'article_type',
        'audience',
        'owner',
        'version',
        'review_by',
        'view_count',
        'use_count',
    ]
    list_filter = ['state', 'article_type', 'audience']
    search_fields = ['number', 'short_description', 'summary', 'owner__username']
    list_select_related = ['owner']
    raw_id_fields = ['owner', 'known_error', 'services', 'cis', 'categories']
    date_hierarchy = 'opened_at'


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyAdmin):
    list_display = ['article', 'version', 'title', 'article_type', 'audience', 'approved_by', 'published_at']
    list_filter = ['article_type', 'audience']
    search_fields = ['article__number', 'title', 'change_note']
    list_select_related = ['article', 'approved_by']
    raw_id_fields = ['article', 'author', 'approved_by']


@admin.register(ArticleVote)
class ArticleVoteAdmin(ReadOnlyAdmin):
    list_display = ['article', 'voter', 'helpful', 'version', 'voted_at']
    list_filter = ['helpful']
    search_fields = ['article__number', 'voter__username', 'comment']
    list_select_related = ['article', 'voter']
    raw_id_fields = ['article', 'voter']


@admin.register(ArticleViewDay)
class ArticleViewDayAdmin(ReadOnlyAdmin):
    list_display = ['article', 'day', 'views']
    search_fields = ['article__number']
    list_select_related = ['article']
    raw_id_fields = ['article']
    date_hierarchy = 'day'


@admin.register(ArticleUse)
class ArticleUseAdmin(ReadOnlyAdmin):
    list_display = ['article', 'incident', 'used_by', 'used_at']
    search_fields = ['article__number', 'incident__number', 'used_by__username']
    list_select_related = ['article', 'incident', 'used_by']
    raw_id_fields = ['article', 'incident', 'used_by']


@admin.register(Deflection)
class DeflectionAdmin(ReadOnlyAdmin):
    list_display = ['article', 'requester', 'query', 'deflected_at']
    search_fields = ['article__number', 'requester__username', 'query']
    list_select_related = ['article', 'requester']
    raw_id_fields = ['article', 'requester']


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ['article', 'review_by', 'sent_to', 'sent_at']
    search_fields = ['article__number', 'sent_to__username']
    list_select_related = ['article', 'sent_to']
    raw_id_fields = ['article', 'sent_to']
