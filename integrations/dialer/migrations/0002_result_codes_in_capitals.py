"""Result codes do not depend on case any more: existing ones are kept in capitals. A project
that had both "cb" and "CB" keeps the one already in capitals (the lower-case one could never
be told apart by a dialer that does not care for case) and the other is left as it was."""

from django.db import migrations


def to_capitals(apps, schema_editor):
    ResultCode = apps.get_model("dialer", "ResultCode")
    taken = set(ResultCode.objects.values_list("project_id", "code"))
    for row in ResultCode.objects.order_by("pk"):
        upper = row.code.strip().upper()
        if upper != row.code and (row.project_id, upper) not in taken:
            taken.discard((row.project_id, row.code))
            taken.add((row.project_id, upper))
            row.code = upper
            row.save(update_fields=["code"])


class Migration(migrations.Migration):
    dependencies = [("dialer", "0001_dialer_projects_integrations_runs")]

    operations = [migrations.RunPython(to_capitals, migrations.RunPython.noop)]
