from django.conf import settings
from rest_framework.routers import DefaultRouter, SimpleRouter

from . import views

# The browsable root lists every endpoint; production serves the endpoints alone.
router = DefaultRouter() if settings.DEBUG else SimpleRouter()
router.register("articles", views.ArticleViewSet, basename="article")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("focus-areas", views.FocusAreaViewSet, basename="focusarea")
router.register("countries", views.CountryViewSet, basename="country")

app_name = "api"
urlpatterns = router.urls
