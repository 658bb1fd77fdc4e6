"""Import and export of records in the admin, under the editorial roles."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, JSON, XLSX


class EditorialImportExportMixin(ImportExportMixin):
    """Whoever may add records may import them; whoever may view them may export them.

    What a row may change is the resource's to decide, by the same workflow rules as the forms.
    Mix in before the ModelAdmin: the change list then keeps its history links too.
    """

    formats = [CSV, XLSX, JSON]

    def has_import_permission(self, request):
        return self.has_add_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def process_result(self, result, request):
        # The preview had no errors, but the records may have changed since, or the confirm
        # may not come from a preview at all; the import was rolled back.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                _(
                    "Nothing was imported: some rows are no longer valid. "
                    "Upload the file again to see which."
                ),
                messages.ERROR,
            )
            return redirect(
                reverse(
                    f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_import"
                )
            )
        return super().process_result(result, request)
