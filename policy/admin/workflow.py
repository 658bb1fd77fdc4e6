"""The editorial workflow in the admin: roles, bulk transitions, history and edit conflicts."""

import reversion
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from reversion.models import Version
from reversion_compare.admin import CompareVersionAdmin

from policy.models import Publishable
from policy.services import change_publication_status
from policy.workflow import (
    PUBLISHER_STATES,
    StaleEdit,
    WorkflowPermissionDenied,
    can_publish,
    check_not_stale,
    check_publication_change,
    is_locked_for,
)

# The timestamps are set by the models; editors see them but cannot change them.
PUBLICATION_READONLY_FIELDS = ["first_published_at", "created_at", "updated_at"]
PUBLICATION_FIELDSET = (
    _("Publication"),
    {
        "description": _(
            "Editors save drafts and submit them for review; Publishers publish, schedule, "
            "unpublish and archive. A record is public from “publish at” (or at once) until "
            "“unpublish at”."
        ),
        "fields": [
            "publication_status",
            ("publish_at", "unpublish_at"),
            *PUBLICATION_READONLY_FIELDS,
        ],
    },
)


# The form's hidden field that says which version of the record the edit started from.
LOADED_VERSION = "loaded_version"


class PublishableAdminForm(forms.ModelForm):
    """Refuses a publication change the user's role does not allow, and a stale edit."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Set per request by PublishableAdmin.get_form.
    user = None
    check_staleness = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[LOADED_VERSION].initial = self.instance.version

    def _post_clean(self):
        super()._post_clean()
        if not self.has_changed():
            return
        if self.instance.pk and self.check_staleness:
            try:
                check_not_stale(
                    instance=self.instance, loaded_version=self.cleaned_data.get(LOADED_VERSION)
                )
            except StaleEdit as error:
                self.add_error(None, error)
                return
        try:
            check_publication_change(user=self.user, instance=self.instance)
        except WorkflowPermissionDenied as error:
            field = "publication_status" if "publication_status" in self.fields else None
            self.add_error(field, str(error))


class PublishableAdmin(CompareVersionAdmin):
    """The admin of a record that goes through the workflow, with its history and diffs."""

    form = PublishableAdminForm
    readonly_fields = PUBLICATION_READONLY_FIELDS
    actions = ["submit_for_review", "publish", "unpublish", "archive"]
    history_latest_first = True

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        # Reverting or recovering puts an old version in the database before the form is
        # shown; that is an explicit choice of version, not a stale edit.
        form.check_staleness = not getattr(request, "reverting_history", False)
        return form

    def get_fieldsets(self, request, obj=None):
        """The admin's fieldsets, the first with the version the form was loaded at.

        The admin renders only the fields its fieldsets name: without it, the browser would not
        send the version back, and every change would be refused as a stale edit.
        """
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or LOADED_VERSION in flatten_fieldsets(fieldsets):
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], LOADED_VERSION]}), *rest]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and is_locked_for(request.user, obj):
            fields = flatten_fieldsets(self.get_fieldsets(request, obj))
            return [field for field in fields if field != LOADED_VERSION]
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        if obj is not None and is_locked_for(request.user, obj):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET" and is_locked_for(request.user, obj):
            self.message_user(
                request,
                _("This %(noun)s is %(status)s: only a Publisher can change it.")
                % {"noun": self.opts.verbose_name, "status": obj.get_publication_status_display()},
                messages.INFO,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_model(self, request, obj):
        self._snapshot_before_deletion(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._snapshot_before_deletion(request, queryset)
        super().delete_queryset(request, queryset)

    def _snapshot_before_deletion(self, request, records):
        """Keep the last state in history, so a deletion can be undone from the recover list."""
        with reversion.create_revision():
            reversion.set_user(request.user)
            reversion.set_comment(_("Deleted"))
            for record in records:
                reversion.add_to_revision(record)

    def compare_view(self, request, object_id, extra_context=None):
        # reversion-compare shows any two versions to any staff user; its history asks more.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        # A version of this record only: reversion would revert whichever record the ID names.
        versions = Version.objects.get_for_object_reference(self.model, unquote(object_id))
        version = get_object_or_404(versions, pk=version_id)
        if refusal := self._history_refusal(request, version):
            self.message_user(request, refusal, messages.ERROR)
            return redirect(self._admin_url("history", object_id))
        request.reverting_history = True
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        # A deleted record of this model only: an old version of one that exists would revert it.
        version = get_object_or_404(Version.objects.get_deleted(self.model), pk=version_id)
        if refusal := self._history_refusal(request, version):
            self.message_user(request, refusal, messages.ERROR)
            return redirect(self._admin_url("recoverlist"))
        request.reverting_history = True
        return super().recover_view(request, version_id, extra_context)

    def _admin_url(self, view, *args):
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}", args=args
        )

    def _history_refusal(self, request, version):
        """Why the user may not go back to the version, if they may not.

        Going back restores the version's whole revision, which may hold other records.
        """
        for restored in version.revision.version_set.all():
            model = restored._model
            if not issubclass(model, Publishable) or can_publish(request.user, model):
                continue
            current = model.objects.filter(pk=restored.object_id).values_list(
                "publication_status", flat=True
            )
            if {restored.field_dict.get("publication_status"), *current} & PUBLISHER_STATES:
                return _(
                    "Only a Publisher can revert or recover a %(noun)s that is or was published "
                    "or archived."
                ) % {"noun": model._meta.verbose_name}
        return None

    def _run_transition(self, request, queryset, transition, done_message):
        try:
            changed = change_publication_status(
                records=list(queryset), transition=transition, user=request.user, via="admin"
            )
        except WorkflowPermissionDenied as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return
        self.message_user(
            request,
            done_message(changed)
            % {
                "count": changed,
                "noun": self.opts.verbose_name if changed == 1 else self.opts.verbose_name_plural,
            },
            messages.SUCCESS if changed else messages.WARNING,
        )

    @admin.action(description=_("Submit the selected records for review"))
    def submit_for_review(self, request, queryset):
        self._run_transition(
            request,
            queryset,
            "submit_for_review",
            lambda n: ngettext(
                "%(count)d %(noun)s submitted for review.",
                "%(count)d %(noun)s submitted for review.",
                n,
            ),
        )

    @admin.action(description=_("Publish the selected records"))
    def publish(self, request, queryset):
        self._run_transition(
            request,
            queryset,
            "publish",
            lambda n: ngettext("%(count)d %(noun)s published.", "%(count)d %(noun)s published.", n),
        )

    @admin.action(description=_("Unpublish the selected records (back to draft)"))
    def unpublish(self, request, queryset):
        self._run_transition(
            request,
            queryset,
            "unpublish",
            lambda n: ngettext(
                "%(count)d %(noun)s unpublished.", "%(count)d %(noun)s unpublished.", n
            ),
        )

    @admin.action(description=_("Archive the selected records"))
    def archive(self, request, queryset):
        self._run_transition(
            request,
            queryset,
            "archive",
            lambda n: ngettext("%(count)d %(noun)s archived.", "%(count)d %(noun)s archived.", n),
        )


class LockedWhenPublishedInline:
    """An inline that a user who cannot publish may not change on a published record."""

    def _is_locked_for(self, request, obj):
        return (
            obj is not None
            and obj.publication_status in PUBLISHER_STATES
            and not can_publish(request.user, self.parent_model)
        )

    def has_add_permission(self, request, obj=None):
        return not self._is_locked_for(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._is_locked_for(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._is_locked_for(request, obj) and super().has_delete_permission(request, obj)
