from django.urls import path

from . import views

app_name = 'webhooks'
urlpatterns = [
    path('', views.WebhookSubscriptionListView.as_view(), name='webhooksubscription_list'),
    path('add/', views.WebhookSubscriptionCreateView.as_view(), name='webhooksubscription_add'),
    path('<int:pk>/', views.WebhookSubscriptionDetailView.as_view(), name='webhooksubscription_detail'),
    path('<int:pk>/edit/', views.WebhookSubscriptionEditView.as_view(), name='webhooksubscription_edit'),
    path('<int:pk>/delete/', views.WebhookSubscriptionDeleteView.as_view(), name='webhooksubscription_delete'),
    path('<int:pk>/rotate-secret/', views.RotateSecretView.as_view(), name='webhooksubscription_rotate'),
    path('<int:pk>/test/', views.PingView.as_view(), name='webhooksubscription_test'),
    path('<int:pk>/enable/', views.EnableView.as_view(), name='webhooksubscription_enable'),
    path('deliveries/<int:pk>/', views.DeliveryDetailView.as_view(), name='delivery_detail'),
    path('deliveries/<int:pk>/redeliver/', views.RedeliverView.as_view(), name='delivery_redeliver'),
]
