"""`/api/v1/` routes of major incidents: the records and their actions, what hangs off one major incident (nested
under its number), and the collections across all of them."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import collections as c
from . import nested
from .views import MajorIncidentViewSet

router = SimpleRouter()
router.register('major-incidents', MajorIncidentViewSet, basename='majorincident')
router.register('major-incident-children', c.MajorIncidentChildViewSet, basename='majorincidentchild')
router.register('major-incident-recipients', c.RecipientViewSet, basename='recipient')
router.register('major-incident-updates', c.MajorIncidentUpdateViewSet, basename='majorincidentupdate')
router.register('major-incident-validations', c.ValidationViewSet, basename='validation')
router.register('major-incident-cadence-reminders', c.CadenceReminderViewSet, basename='cadencereminder')
router.register('major-incident-reviews', c.PostIncidentReviewViewSet, basename='postincidentreview')
router.register('major-incident-update-templates', c.UpdateTemplateViewSet, basename='updatetemplate')
router.register('major-incident-candidates', c.MajorIncidentCandidateViewSet, basename='majorincidentcandidate')
router.register('major-incident-action-items', c.ActionItemViewSet, basename='actionitem')

MAJOR = 'major-incidents/<str:number>/'
urlpatterns = [
    path(
        f'{MAJOR}updates/',
        nested.MajorUpdatesViewSet.as_view({'get': 'list', 'post': 'create'}),
        name='majorincident-updates',
    ),
    path(
        f'{MAJOR}children/',
        nested.MajorChildrenViewSet.as_view({'get': 'list', 'post': 'create'}),
        name='majorincident-children',
    ),
    path(
        f'{MAJOR}children/<str:incident>/',
        nested.MajorChildrenViewSet.as_view({'delete': 'destroy'}),
        name='majorincident-child',
    ),
    path(
        f'{MAJOR}recipients/',
        nested.MajorRecipientsViewSet.as_view({'get': 'list', 'post': 'create'}),
        name='majorincident-recipients',
    ),
    path(
        f'{MAJOR}recipients/<int:pk>/',
        nested.MajorRecipientsViewSet.as_view({'delete': 'destroy'}),
        name='majorincident-recipient',
    ),
    path(
        f'{MAJOR}review/',
        nested.MajorReviewViewSet.as_view({'get': 'retrieve', 'put': 'update', 'patch': 'partial_update'}),
        name='majorincident-review',
    ),
    path(
        f'{MAJOR}review/open-problem/',
        nested.MajorReviewViewSet.as_view({'post': 'open_problem'}),
        name='majorincident-review-open-problem',
    ),
    *router.urls,
]
