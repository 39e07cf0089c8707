from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = 'knowledge'
    verbose_name = 'Knowledge'
