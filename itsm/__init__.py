"""Pitcrew project package and the shared framework every process app builds on."""

from .celery import app as celery_app

__all__ = ['celery_app']
