from rest_framework.routers import SimpleRouter

from .candidates import ProblemCandidateViewSet
from .known_errors import KnownErrorUseViewSet, KnownErrorViewSet
from .links import IncidentProblemViewSet, ProblemIncidentsCompleteViewSet, ProblemIncidentViewSet, ReviewQueueViewSet
from .views import CategoryPriorityViewSet, ProblemViewSet

router = SimpleRouter()
router.register('problems', ProblemViewSet, basename='problem')
router.register('problem-category-priorities', CategoryPriorityViewSet, basename='categorypriority')
router.register('known-errors', KnownErrorViewSet, basename='knownerror')
router.register('known-error-uses', KnownErrorUseViewSet, basename='knownerroruse')
router.register('problem-candidates', ProblemCandidateViewSet, basename='problemcandidate')
router.register('problem-incidents', ProblemIncidentViewSet, basename='problemincident')
router.register('problem-review', ReviewQueueViewSet, basename='problem-review')
router.register('incidents', IncidentProblemViewSet, basename='incident-problem')
router.register('problems', ProblemIncidentsCompleteViewSet, basename='problem-incidents-complete')

urlpatterns = router.urls
