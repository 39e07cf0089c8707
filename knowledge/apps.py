from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import nav_section
from itsm.roles import AGENT_ROLES, STAFF_ROLES

ARTICLES = ('article', 'articleversion', 'articlevote', 'articleviewday', 'articleuse', 'deflection', 'reviewreminder')
WRITERS = (*AGENT_ROLES, Role.PROBLEM_MANAGER)
# Staff who neither write nor manage articles (owners, CAB, managers...) read them.
READERS = tuple(r for r in STAFF_ROLES if r not in (*WRITERS, Role.KNOWLEDGE_MANAGER, Role.ADMINISTRATOR))
# The parts of the app that subscribe to hooks or register checks: each module's `register()` is called once.
PARTS = ('search', 'reviews', 'notifications', 'suggestions', 'links', 'measures')


def perms(actions: str, models: tuple[str, ...]) -> list[str]:
    return [f'{action}_{model}' for action in actions.split() for model in models]


class KnowledgeConfig(AppConfig):
    name = 'knowledge'
    verbose_name = 'Knowledge'

    role_permissions = {
        # Requesters read live articles for everyone (the querysets narrow it), vote and say one solved their report.
        Role.REQUESTER: perms('view', ('article', 'articleversion')) + perms('add', ('articlevote', 'deflection')),
        WRITERS: perms('view', ARTICLES) + perms('add change', ('article', 'articlevote', 'articleuse')),
        Role.KNOWLEDGE_MANAGER: perms('view add change delete', ARTICLES),
        READERS: perms('view', ARTICLES) + perms('add', ('articlevote',)),
        Role.INTEGRATION: perms('view', ARTICLES) + perms('add change', ('article',)),
    }

    # Desk pages need a permission requesters lack (they read articles in the help centre).
    DESK = 'knowledge.view_articleviewday'
    nav_items = [
        *nav_section('Self-service', '', [('Help centre', 'knowledge:help', 'help', 6, 'knowledge.view_article')]),
        *nav_section(
            'Knowledge',
            DESK,
            [
                ('Articles', 'knowledge:article_list', 'book', 50),
                ('New article', 'knowledge:article_add', 'plus', 51, 'knowledge.add_article'),
                ('Search articles', 'knowledge:search', 'search', 52),
                ('Review due', 'knowledge:review_due', 'calendar-due', 53),
                ('Knowledge dashboard', 'knowledge:dashboard', 'chart-dots', 54),
            ],
        ),
    ]

    def ready(self):
        from itsm import search

        from .models import Article

        search.register(
            Article,
            fields=['short_description', 'summary', 'body'],
            number_prefix='KB',
            select_related=('owner',),
            people=('owner',),
            title='Knowledge articles',
        )
        for part in PARTS:
            if find_spec(f'{self.name}.{part}') is None:
                continue
            register = getattr(import_module(f'{self.name}.{part}'), 'register', None)
            if callable(register):
                register()
