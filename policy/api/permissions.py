"""Who may read and write through the API, by the rules the admin applies.

Anyone reads what is published. Writing takes a staff account (a token, or a session in the
browsable API) with the model permission the admin asks for: add, change or delete. A record
that is published or archived is read-only for users who cannot publish it.
"""

from django.contrib.auth import get_permission_codename
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from policy import preview
from policy.models import Publishable
from policy.workflow import is_locked_for

# Editors who may preview a model ask for its drafts too with ?include_unpublished=true.
INCLUDE_UNPUBLISHED = "include_unpublished"
ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class EditorialPermissions(permissions.BasePermission):
    """Reads for anyone; writes with the permission on the model of the view's `queryset`.

    A view without a queryset takes no writes. An anonymous write answers 401, a refused one 403.
    """

    def has_permission(self, request, view):
        action = ACTIONS.get(request.method)
        if action is None:
            # Reads, and methods the view answers 405 to.
            return True
        user = request.user
        model = getattr(getattr(view, "queryset", None), "model", None)
        if not user.is_authenticated or model is None or not user.is_staff:
            return False
        return user.has_perm(
            f"{model._meta.app_label}.{get_permission_codename(action, model._meta)}"
        )

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS or not isinstance(obj, Publishable):
            return True
        if is_locked_for(request.user, obj):
            self.message = _("This %(noun)s is %(status)s: only a Publisher can change it.") % {
                "noun": obj._meta.verbose_name,
                "status": obj.get_publication_status_display(),
            }
            return False
        return True


def sees_unpublished(request, model):
    """Whether the request is shown the records of `model` that the public does not see.

    Writes are, as only editors get to write and they work on drafts. Reads are when an editor
    who may preview the model asks for them; anyone else asking gets the published records.
    """
    if request.method not in permissions.SAFE_METHODS:
        return True
    asked = request.query_params.get(INCLUDE_UNPUBLISHED, "").lower() in ("true", "1")
    return asked and preview.may_preview(request.user, model)
