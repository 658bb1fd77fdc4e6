from django.urls import path

from policy import feeds, views

app_name = "policy"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article_detail"),
    path("commitments/", views.CommitmentListView.as_view(), name="commitment_list"),
    path(
        "commitments/<slug:slug>/",
        views.CommitmentDetailView.as_view(),
        name="commitment_detail",
    ),
    path("focus-areas/", views.FocusAreaListView.as_view(), name="focusarea_list"),
    path("focus-areas/<slug:slug>/", views.FocusAreaDetailView.as_view(), name="focusarea_detail"),
    path("countries/", views.CountryListView.as_view(), name="country_list"),
    path("countries/<slug:slug>/", views.CountryDetailView.as_view(), name="country_detail"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("preview/", views.PreviewView.as_view(), name="preview"),
    path("feeds/articles.rss", feeds.LatestArticlesFeed(), name="article_feed_rss"),
    path("feeds/articles.atom", feeds.LatestArticlesAtomFeed(), name="article_feed_atom"),
    path("feeds/status-changes.rss", feeds.StatusChangesFeed(), name="status_change_feed_rss"),
    path(
        "feeds/status-changes.atom",
        feeds.StatusChangesAtomFeed(),
        name="status_change_feed_atom",
    ),
]
