"""Articles and focus areas."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from policy.models import Article, Authorship, FocusArea

from .common import (
    HTTPS_URL_FIELDS,
    SOURCE_FIELDSET,
)
from .images import ImagePreviewAdminMixin
from .workflow import (
    PUBLICATION_FIELDSET,
    PUBLICATION_READONLY_FIELDS,
    LockedWhenPublishedInline,
    PublishableAdmin,
)


class AuthorshipInline(LockedWhenPublishedInline, admin.TabularInline):
    model = Authorship
    autocomplete_fields = ["person"]
    extra = 1


@admin.register(Article)
class ArticleAdmin(ImagePreviewAdminMixin, PublishableAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    readonly_fields = [*PUBLICATION_READONLY_FIELDS, "image_thumbnail"]
    list_display = [
        "image_thumbnail",
        "title",
        "author_names",
        "publisher",
        "publication_date",
        "language",
        "publication_status",
    ]
    list_filter = [
        "publication_status",
        "language",
        ("publisher", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["publisher"]
    date_hierarchy = "publication_date"
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["publisher", "keywords"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "publisher",
                    "publication_date",
                    "language",
                    "source_url",
                    "keywords",
                ]
            },
        ),
        (_("Text"), {"fields": ["summary", "body"]}),
        (_("Lead image"), {"fields": ["image_thumbnail", "image", "image_alt"]}),
        PUBLICATION_FIELDSET,
    ]
    inlines = [AuthorshipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authorships__person")

    @admin.display(description=_("authors"))
    def author_names(self, article):
        return ", ".join(authorship.person.name for authorship in article.authorships.all())


@admin.register(FocusArea)
class FocusAreaAdmin(ImagePreviewAdminMixin, PublishableAdmin):
    readonly_fields = [*PUBLICATION_READONLY_FIELDS, "image_thumbnail"]
    list_display = ["image_thumbnail", "name", "order", "publication_status", "updated_at"]
    list_filter = ["publication_status"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["source_article"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "order", "description"]}),
        (_("Image"), {"fields": ["image_thumbnail", "image", "image_alt"]}),
        SOURCE_FIELDSET,
        PUBLICATION_FIELDSET,
    ]
