from django.urls import path

from . import views

app_name = 'inbox'
urlpatterns = [
    path('', views.NotificationListView.as_view(), name='notification_list'),
    path('bell/', views.BellView.as_view(), name='bell'),
    path('read-all/', views.MarkAllReadView.as_view(), name='read_all'),
    path('preferences/', views.PreferencesView.as_view(), name='preferences'),
    path('<int:pk>/', views.NotificationOpenView.as_view(), name='notification_open'),
]
