"""Where articles meet incidents and known errors: the incident page's panel (articles and known errors suggested for
its text, CI and service; "Used to resolve"; the articles already used) and the known error's articles.

The known error's page shows the articles that publish its workaround, and the button that makes one, as a
contributed panel (`known_error_panel`)."""

from __future__ import annotations

from typing import Any

from itsm.choices import TicketKind
from itsm.permissions import user_can


def incident_panel(request, ticket) -> dict[str, Any] | None:
    """The incident page (staff): articles used to resolve it, and suggestions with "Used to resolve" while it is
    open or completed. The same queries whatever the number of uses and suggestions."""
    from .models import Article, ArticleUse
    from .selectors import with_published
    from .suggestions import desk_suggestions

    user = request.user
    if user.is_requester_only or not user_can(user, Article, 'view'):
        return None
    used = list(ArticleUse.objects.filter(incident=ticket).select_related('article', 'used_by').order_by('-used_at'))
    used_ids = [use.article_id for use in used]
    # Cases are not resolved with articles; the service refuses them too.
    may_use = (
        ticket.kind == TicketKind.INCIDENT
        and not ticket.is_final
        and user_can(user, ArticleUse, 'add')
        and ticket.may_work(user)
    )
    found = desk_suggestions(
        ticket.short_description,
        user=user,
        ci=ticket.ci,
        service=ticket.service,
        exclude_articles=used_ids,
        incident=ticket,
    )
    if not used and not found:
        return None
    with_published([hit.article for hit in found.articles])
    return {
        'kb_ticket': ticket,
        'kb_used': used,
        'kb_articles': found.articles,
        'kb_known_errors': found.known_errors,
        'kb_may_use': may_use,
    }


def known_error_panel(request, known_error) -> dict[str, Any] | None:
    """The known error's page (staff): its articles, and "Publish as article" while it has none (one query)."""
    from .models import Article

    user = request.user
    if not user_can(user, Article, 'view'):
        return None
    articles = list(known_error.articles.order_by('-opened_at'))
    return {'known_error': known_error, 'articles': articles, 'may_publish': user_can(user, Article, 'add')}


def register() -> None:
    from incidents.models import Ticket
    from itsm.views.records import register_panel
    from problems.models import KnownError

    register_panel(Ticket, 'knowledge/_incident_articles.html', incident_panel)
    register_panel(KnownError, 'knowledge/_known_error_articles.html', known_error_panel)
