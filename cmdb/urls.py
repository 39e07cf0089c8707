"""CMDB pages under /cmdb/. Names follow `cmdb:<model>_<action>`; CIs and services are addressed by number."""

from django.urls import path

from . import views

app_name = 'cmdb'
urlpatterns = [
    # Configuration items
    path('cis/', views.ConfigurationItemListView.as_view(), name='configurationitem_list'),
    path('cis/add/', views.ConfigurationItemCreateView.as_view(), name='configurationitem_add'),
    path('cis/<str:number>/', views.ConfigurationItemDetailView.as_view(), name='configurationitem_detail'),
    path('cis/<str:number>/edit/', views.ConfigurationItemEditView.as_view(), name='configurationitem_edit'),
    path('cis/<str:number>/delete/', views.ConfigurationItemDeleteView.as_view(), name='configurationitem_delete'),
    path('cis/<str:number>/impact/', views.ConfigurationItemImpactView.as_view(), name='configurationitem_impact'),
    path('cis/<str:number>/map/', views.ConfigurationItemMapView.as_view(), name='configurationitem_map'),
    path('cis/<str:number>/graph/', views.ConfigurationItemGraphView.as_view(), name='configurationitem_graph'),
    path(
        'cis/<str:number>/services/', views.ConfigurationItemServicesView.as_view(), name='configurationitem_services'
    ),
    # Services
    path('services/', views.ServiceListView.as_view(), name='service_list'),
    path('services/add/', views.ServiceCreateView.as_view(), name='service_add'),
    path('services/<str:pk>/', views.ServiceDetailView.as_view(), name='service_detail'),
    path('services/<str:pk>/edit/', views.ServiceEditView.as_view(), name='service_edit'),
    path('services/<str:pk>/delete/', views.ServiceDeleteView.as_view(), name='service_delete'),
    # Relationships
    path('relationships/', views.RelationshipListView.as_view(), name='relationship_list'),
    path('relationships/add/', views.RelationshipCreateView.as_view(), name='relationship_add'),
    path('relationships/<int:pk>/', views.RelationshipDetailView.as_view(), name='relationship_detail'),
    path('relationships/<int:pk>/edit/', views.RelationshipEditView.as_view(), name='relationship_edit'),
    path('relationships/<int:pk>/delete/', views.RelationshipDeleteView.as_view(), name='relationship_delete'),
    # RACI assignments
    path('raci/', views.RaciAssignmentListView.as_view(), name='raciassignment_list'),
    path('raci/add/', views.RaciAssignmentCreateView.as_view(), name='raciassignment_add'),
    path('raci/<int:pk>/', views.RaciAssignmentDetailView.as_view(), name='raciassignment_detail'),
    path('raci/<int:pk>/edit/', views.RaciAssignmentEditView.as_view(), name='raciassignment_edit'),
    path('raci/<int:pk>/delete/', views.RaciAssignmentDeleteView.as_view(), name='raciassignment_delete'),
    # Import
    path('import/', views.ImportView.as_view(), name='import'),
]
