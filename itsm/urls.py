"""Project URLs: pages per app, the API under /api/v1/, health and admin."""

from django.contrib import admin
from django.urls import include, path

from itsm.views import errors, health, live

urlpatterns = [
    path('', include('itsm.views.urls')),
    path('', include('incidents.urls')),
    path('api/v1/', include('itsm.api.urls')),
    path('cmdb/', include('cmdb.urls')),
    path('problems/', include('problems.urls')),
    path('changes/', include('changes.urls')),
    path('major-incidents/', include('major_incidents.urls')),
    path('knowledge/', include('knowledge.urls')),
    path('status/', include('statuspage.urls')),
    path('sla/', include('sla.urls')),
    path('reports/', include('reports.urls')),
    path('inbox/', include('inbox.urls')),
    path('mailboxes/', include('mailboxes.urls')),
    path('monitoring/', include('monitoring.urls')),
    path('webhooks/', include('webhooks.urls')),
    path('oncall/', include('oncall.urls')),
    path('hypercare/', include('hypercare.urls')),
    path('predictions/', include('predictions.urls')),
    path('health/', health.health, name='health'),
    path('live/', live.LiveView.as_view(), name='live'),
    path('admin/', admin.site.urls),
]

# Uploaded files are never served from MEDIA_URL, not even in development: attachments go out only through
# `attachment_download`, which checks that the person may see the record (internal ones to staff only).

handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
