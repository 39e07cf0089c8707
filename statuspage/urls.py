"""`/status/`: the public status page, its JSON (Statuspage API v2 shape), its Atom feed and subscriptions, and the
staff pages listing subscribers."""

from django.urls import path

from . import views
from .feeds import PublicUpdatesFeed

app_name = 'statuspage'
urlpatterns = [
    path('', views.index, name='index'),
    path('services/<str:number>/', views.service, name='service'),
    path('incidents/<str:number>/', views.incident, name='incident'),
    path('feed.atom', PublicUpdatesFeed(), name='feed'),
    path('api/v2/summary.json', views.summary_json, name='summary'),
    path('api/v2/status.json', views.status_json, name='status'),
    path('api/v2/components.json', views.components_json, name='components'),
    path('api/v2/incidents.json', views.incidents_json, name='incidents'),
    path('api/v2/incidents/unresolved.json', views.unresolved_json, name='incidents_unresolved'),
    path('api/v2/scheduled-maintenances.json', views.maintenances_json, name='maintenances'),
    path('api/v2/scheduled-maintenances/upcoming.json', views.upcoming_json, name='maintenances_upcoming'),
    path('api/v2/scheduled-maintenances/active.json', views.active_maintenances_json, name='maintenances_active'),
    path('subscribe/', views.subscribe, name='subscribe'),
    path('subscriptions/<str:token>/confirm/', views.confirm, name='confirm'),
    path('subscriptions/<str:token>/unsubscribe/', views.unsubscribe, name='unsubscribe'),
    path('subscribers/', views.SubscriberListView.as_view(), name='subscriber_list'),
    path('subscribers/<int:pk>/', views.SubscriberDetailView.as_view(), name='subscriber_detail'),
    path('subscribers/<int:pk>/delete/', views.SubscriberDeleteView.as_view(), name='subscriber_delete'),
]
