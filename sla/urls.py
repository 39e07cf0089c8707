"""Service level pages under /sla/. Names follow `sla:<model>_<action>`."""

from django.urls import path

from . import views

app_name = 'sla'
urlpatterns = [
    # SLAs
    path('slas/', views.ServiceLevelAgreementListView.as_view(), name='servicelevelagreement_list'),
    path('slas/add/', views.ServiceLevelAgreementCreateView.as_view(), name='servicelevelagreement_add'),
    path('slas/<int:pk>/', views.ServiceLevelAgreementDetailView.as_view(), name='servicelevelagreement_detail'),
    path('slas/<int:pk>/edit/', views.ServiceLevelAgreementEditView.as_view(), name='servicelevelagreement_edit'),
    path('slas/<int:pk>/delete/', views.ServiceLevelAgreementDeleteView.as_view(), name='servicelevelagreement_delete'),
    # OLAs
    path('olas/', views.OperationalLevelAgreementListView.as_view(), name='operationallevelagreement_list'),
    path('olas/add/', views.OperationalLevelAgreementCreateView.as_view(), name='operationallevelagreement_add'),
    path(
        'olas/<int:pk>/',
        views.OperationalLevelAgreementDetailView.as_view(),
        name='operationallevelagreement_detail',
    ),
    path(
        'olas/<int:pk>/edit/', views.OperationalLevelAgreementEditView.as_view(), name='operationallevelagreement_edit'
    ),
    path(
        'olas/<int:pk>/delete/',
        views.OperationalLevelAgreementDeleteView.as_view(),
        name='operationallevelagreement_delete',
    ),
    # Underpinning contracts
    path('contracts/', views.UnderpinningContractListView.as_view(), name='underpinningcontract_list'),
    path('contracts/add/', views.UnderpinningContractCreateView.as_view(), name='underpinningcontract_add'),
    path('contracts/<int:pk>/', views.UnderpinningContractDetailView.as_view(), name='underpinningcontract_detail'),
    path('contracts/<int:pk>/edit/', views.UnderpinningContractEditView.as_view(), name='underpinningcontract_edit'),
    path(
        'contracts/<int:pk>/delete/',
        views.UnderpinningContractDeleteView.as_view(),
        name='underpinningcontract_delete',
    ),
    # Business calendars
    path('calendars/', views.BusinessCalendarListView.as_view(), name='businesscalendar_list'),
    path('calendars/add/', views.BusinessCalendarCreateView.as_view(), name='businesscalendar_add'),
    path('calendars/<int:pk>/', views.BusinessCalendarDetailView.as_view(), name='businesscalendar_detail'),
    path('calendars/<int:pk>/edit/', views.BusinessCalendarEditView.as_view(), name='businesscalendar_edit'),
    path('calendars/<int:pk>/delete/', views.BusinessCalendarDeleteView.as_view(), name='businesscalendar_delete'),
    # Clocks, announcements and pauses (read-only: the records' lifecycles and the sweep write them)
    path('clocks/', views.SlaClockListView.as_view(), name='slaclock_list'),
    path('clocks/<int:pk>/', views.SlaClockDetailView.as_view(), name='slaclock_detail'),
    path('events/', views.ClockEventListView.as_view(), name='clockevent_list'),
    path('events/<int:pk>/', views.ClockEventDetailView.as_view(), name='clockevent_detail'),
    path('pauses/', views.ClockPauseListView.as_view(), name='clockpause_list'),
    path('pauses/<int:pk>/', views.ClockPauseDetailView.as_view(), name='clockpause_detail'),
]
