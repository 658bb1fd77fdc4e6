from django.conf import settings
from rest_framework.routers import DefaultRouter, SimpleRouter

from . import views

# The browsable root lists every endpoint; production serves the endpoints alone.
router = DefaultRouter() if settings.DEBUG else SimpleRouter()
router.register("articles", views.ArticleViewSet, basename="article")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register(
    r"commitments/(?P<commitment_slug>[^/.]+)/status-updates",
    views.StatusUpdateViewSet,
    basename="commitment-status-update",
)
router.register(
    r"commitments/(?P<commitment_slug>[^/.]+)/quotes",
    views.SourceQuoteViewSet,
    basename="commitment-quote",
)
router.register("focus-areas", views.FocusAreaViewSet, basename="focusarea")
router.register("countries", views.CountryViewSet, basename="country")
router.register("actors", views.ActorViewSet, basename="actor")
router.register("people", views.PersonViewSet, basename="person")
router.register("events", views.EventViewSet, basename="event")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("keywords", views.KeywordViewSet, basename="keyword")

app_name = "api"
urlpatterns = router.urls
