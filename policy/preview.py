"""Preview: staff see the public site with the records the public does not see yet.

The one place that decides, per request, whether a page shows every record of a model or only
what `published()` lets the public see. The session flag only asks for preview; the user is
checked on every request, so a flag left behind by a user who lost staff status does nothing.
"""

from django.contrib.auth import get_permission_codename
from django.utils.cache import patch_cache_control

from policy.models import PUBLISHABLE_MODELS

SESSION_KEY = "policy_preview"


def view_permission(model):
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename('view', opts)}"


def may_preview(user, model=None):
    """Active staff who may view the model in the admin; without a model, any previewable one."""
    models = [model] if model else PUBLISHABLE_MODELS
    return (
        user.is_active
        and user.is_staff
        and any(user.has_perm(view_permission(each)) for each in models)
    )


def previewing(request, model=None):
    return bool(request.session.get(SESSION_KEY)) and may_preview(request.user, model)


def switch(request, *, on):
    request.session[SESSION_KEY] = on


def visible(request, model):
    """The records of `model` that lists and related records show to this request."""
    return model.objects.all() if previewing(request, model) else model.objects.published()


def shown(request, record):
    """The related record if this request may see it, as `visible` would have selected it; else
    None. For a record fetched with another, rather than by a query of its own."""
    if record is None or record.is_published or previewing(request, type(record)):
        return record
    return None


def openable(request, model):
    """The records whose own page opens: unpublished ones too for staff, as "View on site" needs."""
    return model.objects.all() if may_preview(request.user, model) else model.objects.published()


def keep_private(response):
    """No shared cache or search engine may keep a page that can show unpublished records."""
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    return response
