from django.urls import path

from . import views

app_name = 'monitoring'
urlpatterns = [
    path('', views.AlertListView.as_view(), name='alert_list'),
    path('alerts/<int:pk>/', views.AlertDetailView.as_view(), name='alert_detail'),
    path('sources/', views.AlertSourceListView.as_view(), name='alertsource_list'),
    path('sources/add/', views.AlertSourceCreateView.as_view(), name='alertsource_add'),
    path('sources/<int:pk>/', views.AlertSourceDetailView.as_view(), name='alertsource_detail'),
    path('sources/<int:pk>/edit/', views.AlertSourceEditView.as_view(), name='alertsource_edit'),
    path('sources/<int:pk>/rotate/', views.AlertSourceRotateView.as_view(), name='alertsource_rotate'),
    path('sources/<int:pk>/delete/', views.AlertSourceDeleteView.as_view(), name='alertsource_delete'),
]
