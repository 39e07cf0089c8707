from django.urls import path

from . import views

app_name = 'hypercare'
urlpatterns = [
    path('', views.HypercarePeriodListView.as_view(), name='hypercareperiod_list'),
    path('add/', views.HypercarePeriodCreateView.as_view(), name='hypercareperiod_add'),
    path('<int:pk>/', views.HypercarePeriodDetailView.as_view(), name='hypercareperiod_detail'),
    path('<int:pk>/edit/', views.HypercarePeriodEditView.as_view(), name='hypercareperiod_edit'),
    path('<int:pk>/end/', views.HypercarePeriodEndView.as_view(), name='hypercareperiod_end'),
    path('<int:pk>/delete/', views.HypercarePeriodDeleteView.as_view(), name='hypercareperiod_delete'),
    path('rules/', views.HypercareRuleListView.as_view(), name='hypercarerule_list'),
    path('rules/add/', views.HypercareRuleCreateView.as_view(), name='hypercarerule_add'),
    path('rules/<int:pk>/', views.HypercareRuleDetailView.as_view(), name='hypercarerule_detail'),
    path('rules/<int:pk>/edit/', views.HypercareRuleEditView.as_view(), name='hypercarerule_edit'),
    path('rules/<int:pk>/delete/', views.HypercareRuleDeleteView.as_view(), name='hypercarerule_delete'),
]
