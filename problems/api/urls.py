from rest_framework.routers import SimpleRouter

from .views import CategoryPriorityViewSet, ProblemViewSet

router = SimpleRouter()
router.register('problems', ProblemViewSet, basename='problem')
router.register('problem-category-priorities', CategoryPriorityViewSet, basename='categorypriority')

urlpatterns = router.urls
