"""Pages of major-incident response: major incidents (addressed by number, `MIR0001001`) with one page per action of
`MAJOR_INCIDENT_ACTIONS`, the candidates, update templates, post-incident reviews with their action items, the
incident-page card's actions, and the dashboard. Each part lists its own routes in its view module."""

from .views.candidates import candidate_urls
from .views.dashboard import dashboard_urls
from .views.incidents import incident_urls
from .views.majors import major_urls
from .views.review import review_urls
from .views.update_templates import template_urls

app_name = 'major_incidents'
urlpatterns = [*candidate_urls, *template_urls, *dashboard_urls, *incident_urls, *review_urls, *major_urls]
