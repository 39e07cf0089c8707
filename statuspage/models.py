"""Subscribers to the public status page: e-mail with double opt-in and one-click unsubscribe."""

from __future__ import annotations

import secrets

from django.db import models
from django.urls import reverse


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


class Subscriber(models.Model):
    """An address told about public updates; only once it confirmed (double opt-in). No services: all of them."""

    email = models.EmailField(unique=True)
    services = models.ManyToManyField(
        'cmdb.ConfigurationItem',
        blank=True,
        related_name='status_subscribers',
        limit_choices_to={'ci_class': 'service'},
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ['email']
        indexes = [models.Index(fields=['confirmed_at', 'unsubscribed_at'], name='status_subscriber_live')]

    def __str__(self) -> str:
        return self.email

    def get_absolute_url(self) -> str:
        return reverse('statuspage:subscriber_detail', args=[self.pk])
