"""The Editor and Publisher groups, with the permissions of their part in the workflow."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT = ["article", "commitment", "focusarea"]
INLINES = ["authorship", "sourcequote", "statusupdate"]
REFERENCE = ["actor", "country", "event", "keyword", "person", "project"]

EDITOR = [
    *(f"{action}_{model}" for model in CONTENT + REFERENCE for action in ("view", "add", "change")),
    *(f"{action}_{model}" for model in INLINES for action in ("view", "add", "change", "delete")),
]
PUBLISHER = [
    *EDITOR,
    *(f"publish_{model}" for model in CONTENT),
    *(f"delete_{model}" for model in CONTENT + REFERENCE),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in (("Editor", EDITOR), ("Publisher", PUBLISHER)):
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="policy", codename__in=codenames
        )
        assert permissions.count() == len(set(codenames)), "a permission is missing"
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editor", "Publisher"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("policy", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
