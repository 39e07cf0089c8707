"""Demo knowledge base: the articles in `demo_articles/` imported and published by the knowledge manager, with votes,
views, reuse in resolutions and portal deflections from the demo people, so the dashboard has numbers.

One article has a new version in review, one new article is a draft, and one is past its review date. Idempotent:
the import skips unchanged files, and the activity of an article is added only while it has none.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel
from itsm.models import User

from . import reviews, services
from .choices import ArticleState, ArticleType
from .importer import import_folder
from .models import Article

ARTICLES = Path(__file__).resolve().parent / 'demo_articles'
KNOWLEDGE_MANAGER = 'knowledge'

# (source file, views, [(voter, helpful, comment)], [(requester, what they typed)] ended by it, incidents it resolved)
ACTIVITY = [
    (
        'vpn-connect-from-home.md',
        42,
        [('requester', True, ''), ('requester2', True, 'The table of messages helped.'), ('agent', True, '')],
        [
            ('requester', 'vpn does not connect'),
            ('requester2', 'vpn at home'),
            ('requester', 'cannot reach shared drive'),
        ],
        ['VPN will not connect from home', 'VPN client says the certificate is not trusted'],
    ),
    (
        'password-reset.md',
        67,
        [('requester', True, ''), ('requester2', False, 'The reset page did not send me a code.')],
        [
            ('requester2', 'forgot password'),
            ('requester', 'password expired'),
            ('requester2', 'account locked'),
            ('requester', 'reset password'),
        ],
        [],
    ),
    (
        'printer-queue-stuck.md',
        18,
        [('requester2', False, 'My printer is not in the list.')],
        [('requester', 'printer not printing')],
        [],
    ),
    ('email-on-phone.md', 25, [('requester', True, '')], [('requester2', 'mail on iphone')], []),
    (
        'vpn-drops-workaround.md',
        14,
        [('agent', True, ''), ('agent2', True, 'Saves a call to Network.')],
        [],
        ['VPN drops every few minutes when working from home'],
    ),
    ('shared-drive-access.md', 9, [('agent2', True, '')], [], []),
    ('laptop-encryption-recovery.md', 6, [], [], []),
]

# The article with a new version waiting for the knowledge manager, and what its writer changed.
IN_REVIEW = (
    'wifi-office.md',
    'agent2',
    '\n\n## Visitors\n\nVisitors ask reception for the code of the day; it is valid until midnight.\n',
)
# The article past its review date (as if published over a year ago) and how many days past.
PAST_REVIEW = ('laptop-encryption-recovery.md', 12)
DRAFT = {
    'title': 'Teams meeting has an echo',
    'body': (
        'An echo in a meeting comes from someone whose speakers feed back into their microphone.\n\n'
        '1. Ask everyone without a headset to mute.\n'
        '2. The person who hears others twice is not the cause: look for the one who does not hear the echo.\n'
    ),
    'article_type': ArticleType.TROUBLESHOOTING,
    'summary': 'Find the participant without a headset and mute them.',
}


def _activity(article: Article, people: dict, views: int, votes, deflections, incidents) -> bool:
    from incidents.models import Ticket

    if article.view_count or article.helpful_count or article.not_helpful_count or not article.is_live:
        return False
    viewers = [people[name] for name, *_ in votes] or [people['agent']]
    for i in range(views):
        services.article_viewed(article=article, user=viewers[i % len(viewers)])
    for name, helpful, comment in votes:
        services.article_vote(
            article=article, actor=Actor(user=people[name], channel=Channel.UI), helpful=helpful, comment=comment
        )
    for name, query in deflections:
        services.deflect(article=article, actor=Actor(user=people[name], channel=Channel.UI), query=query)
    agent = Actor(user=people['agent'], channel=Channel.UI)
    for text in incidents:
        incident = Ticket.objects.filter(short_description=text, kind='incident').first()
        if incident is not None:
            services.article_use(article=article, incident=incident, actor=agent)
    return True


@transaction.atomic
def load(log=print) -> None:
    manager = User.objects.filter(username=KNOWLEDGE_MANAGER).first()
    if manager is None:
        log('knowledge: no knowledge manager among the demo people, nothing loaded')
        return
    people = {u.username: u for u in User.objects.all()}
    approver = Actor(user=manager, channel=Channel.UI)
    report = import_folder(ARTICLES, actor=approver, publish=True)
    for failure in report.failures:
        log(f'knowledge: {failure.path} not imported: {failure.reason}')
    by_file = {a.source_path: a for a in Article.objects.filter(source_path__in=[a[0] for a in ACTIVITY])}

    busy = 0
    for path, views, votes, deflections, incidents in ACTIVITY:
        article = by_file.get(path)
        if article is not None and _activity(article, people, views, votes, deflections, incidents):
            busy += 1

    path, writer, addition = IN_REVIEW
    article = Article.objects.filter(source_path=path).first()
    if article is not None and article.state == ArticleState.PUBLISHED and article.version == 1:
        author = Actor(user=people[writer], channel=Channel.UI)
        article = services.article_revise(article=article, actor=author, note='Visitors keep asking at reception')
        article = services.article_update(article=article, actor=author, body=article.body + addition)
        services.article_submit(article=article, actor=author, note='Added what visitors do')

    path, days = PAST_REVIEW
    past = timezone.localdate() - dt.timedelta(days=days)
    # Time passing is no action of anyone: the demo dates the review back, as if the article had been published a
    # year ago, so the review list and the owner's reminder have something to show.
    Article.objects.filter(source_path=path, state=ArticleState.PUBLISHED, review_by__gt=past).update(review_by=past)
    reviews.send_review_reminders()  # the reminder the hourly job would send its owner

    if not Article.objects.filter(short_description=DRAFT['title']).exists():
        services.article_create(actor=Actor(user=people['agent'], channel=Channel.UI), **DRAFT)

    log(
        f'knowledge: {report.summary()} from {ARTICLES.name}/; activity on {busy} articles; '
        f'{Article.objects.count()} articles in all'
    )
