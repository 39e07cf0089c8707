from django.urls import path

from . import views

app_name = 'oncall'
urlpatterns = [
    path('', views.OnCallNowView.as_view(), name='now'),
    path('schedules/', views.OnCallScheduleListView.as_view(), name='oncallschedule_list'),
    path('schedules/add/', views.OnCallScheduleCreateView.as_view(), name='oncallschedule_add'),
    path('schedules/<int:pk>/', views.OnCallScheduleDetailView.as_view(), name='oncallschedule_detail'),
    path('schedules/<int:pk>/edit/', views.OnCallScheduleEditView.as_view(), name='oncallschedule_edit'),
    path('schedules/<int:pk>/delete/', views.OnCallScheduleDeleteView.as_view(), name='oncallschedule_delete'),
    path('schedules/<int:pk>/rotate-feed/', views.RotateFeedView.as_view(), name='oncallschedule_rotate'),
    path('feed/<str:token>', views.ScheduleFeedView.as_view(), name='feed'),
    path('layers/', views.RotationLayerListView.as_view(), name='rotationlayer_list'),
    path('layers/add/', views.RotationLayerCreateView.as_view(), name='rotationlayer_add'),
    path('layers/<int:pk>/', views.RotationLayerDetailView.as_view(), name='rotationlayer_detail'),
    path('layers/<int:pk>/edit/', views.RotationLayerEditView.as_view(), name='rotationlayer_edit'),
    path('layers/<int:pk>/delete/', views.RotationLayerDeleteView.as_view(), name='rotationlayer_delete'),
    path('overrides/', views.OnCallOverrideListView.as_view(), name='oncalloverride_list'),
    path('overrides/add/', views.OnCallOverrideCreateView.as_view(), name='oncalloverride_add'),
    path('overrides/<int:pk>/', views.OnCallOverrideDetailView.as_view(), name='oncalloverride_detail'),
    path('overrides/<int:pk>/edit/', views.OnCallOverrideEditView.as_view(), name='oncalloverride_edit'),
    path('overrides/<int:pk>/delete/', views.OnCallOverrideDeleteView.as_view(), name='oncalloverride_delete'),
    path('policies/', views.EscalationPolicyListView.as_view(), name='escalationpolicy_list'),
    path('policies/add/', views.EscalationPolicyCreateView.as_view(), name='escalationpolicy_add'),
    path('policies/<int:pk>/', views.EscalationPolicyDetailView.as_view(), name='escalationpolicy_detail'),
    path('policies/<int:pk>/edit/', views.EscalationPolicyEditView.as_view(), name='escalationpolicy_edit'),
    path('policies/<int:pk>/delete/', views.EscalationPolicyDeleteView.as_view(), name='escalationpolicy_delete'),
    path('pages/', views.PageListView.as_view(), name='page_list'),
    path('pages/<int:pk>/', views.PageDetailView.as_view(), name='page_detail'),
    path('pages/<int:pk>/acknowledge/', views.PageAcknowledgeView.as_view(), name='page_acknowledge'),
    path('ack/<str:token>/', views.AcknowledgeLinkView.as_view(), name='acknowledge'),
]
