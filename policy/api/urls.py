from django.conf import settings
from rest_framework.routers import DefaultRouter, SimpleRouter

from . import views

# The browsable root lists every endpoint; production serves the endpoints alone.
router = DefaultRouter() if settings.DEBUG else SimpleRouter()
router.register("articles", views.ArticleViewSet)
router.register("commitments", views.CommitmentViewSet)
router.register("focus-areas", views.FocusAreaViewSet)
router.register("countries", views.CountryViewSet)

app_name = "api"
urlpatterns = router.urls
