"""Pages of the knowledge base: articles (addressed by number, `KB0001001`) with one page per action of
`KNOWLEDGE_ACTIONS`, their versions and comparisons, the portal's reading and suggestion pages, and the dashboard.
Each part lists its own routes in its view module."""

from .views.articles import article_urls
from .views.dashboard import dashboard_urls
from .views.portal import portal_urls
from .views.search import search_urls
from .views.suggestions import suggestion_urls
from .views.versions import version_urls

app_name = 'knowledge'
urlpatterns = [*portal_urls, *search_urls, *suggestion_urls, *dashboard_urls, *version_urls, *article_urls]
