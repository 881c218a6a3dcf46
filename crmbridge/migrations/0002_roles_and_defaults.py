"""Create the three role groups, the Global Settings row and a default Configuration Profile.

Permissions are attached to the groups by `crmbridge.roles.sync_role_permissions` after every
migrate, so that models added later get them too.
"""

from django.db import migrations

ROLES = ("Admin", "CSM", "Rep")


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    apps.get_model("crmbridge", "GlobalSettings").objects.get_or_create(pk=1)
    Profile = apps.get_model("crmbridge", "ConfigurationProfile")
    if not Profile.objects.filter(is_default=True).exists():
        Profile.objects.get_or_create(
            name="Everyone", defaults={"is_default": True, "contact_creation_enabled": True}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crmbridge", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
