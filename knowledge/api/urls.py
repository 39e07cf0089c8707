"""`/api/v1/` routes of the knowledge base: `articles/` with its actions, versions, votes, uses, deflections,
comparison, search and the known-error conversion."""

from rest_framework.routers import SimpleRouter

from .views import ArticleViewSet

router = SimpleRouter()
router.register('articles', ArticleViewSet, basename='article')

urlpatterns = router.urls
