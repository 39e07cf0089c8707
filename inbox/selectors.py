"""What the inbox pages and the API read: a person's notifications, latest first, and their unread count."""

from __future__ import annotations

from .models import Notification

LATEST = 8


def notifications_for(user):
    """The person's notifications, latest first, with who caused them and the record's type."""
    return Notification.objects.for_user(user).select_related('actor', 'content_type').order_by('-created_at', '-id')


def unread_count(user) -> int:
    """One count on the unread index."""
    return Notification.objects.for_user(user).unread().count()


def latest_for(user, limit: int = LATEST) -> list[Notification]:
    return list(notifications_for(user)[:limit])


def record_url(notification: Notification, user) -> str:
    """Where opening the notification leads: the desk's page of the record for staff, the portal's for requesters
    ('' when the record is gone or the person may no longer see it)."""
    record = notification.record
    if record is None:
        return ''
    from .services import may_see

    if not may_see(record, user, public=True):
        return ''
    if user.is_requester_only and hasattr(record, 'notification_path'):
        return record.notification_path(requester=True)
    return record.get_absolute_url()
