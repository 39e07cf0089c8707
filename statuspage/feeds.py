"""The Atom feed of public updates, newest first, each entry linking its incident's public page."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from itsm.notify import site_url

from . import selectors


class PublicUpdatesFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return settings.STATUS_PAGE_TITLE

    def subtitle(self):
        return 'Updates on incidents affecting our services.'

    def link(self):
        return reverse('statuspage:index')

    def feed_url(self):
        return reverse('statuspage:feed')

    def items(self):
        return selectors.public_updates()

    def item_title(self, update):
        return f'{update.major_incident.title}: {update.get_status_display()}'

    def item_description(self, update):
        # Atom readers render the summary as HTML: the update is plain text, so it is escaped first.
        return linebreaksbr(update.body, autoescape=True)

    def item_link(self, update):
        return reverse('statuspage:incident', args=[update.major_incident.number])

    def item_guid(self, update):
        # One entry per update, though several share their incident's page.
        return site_url(f'{self.item_link(update)}#update-{update.pk}')

    def item_guid_is_permalink(self, update):
        return False

    def item_pubdate(self, update):
        return update.posted_at

    def item_updateddate(self, update):
        return update.posted_at

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        response['Cache-Control'] = 'max-age=30'
        return response
