"""CSV import and export in the admin (django-import-export) follow the roles too.

django-import-export lets every staff user import and export unless the ModelAdmin (or the
IMPORT_EXPORT_*_PERMISSION_CODE settings) say otherwise, so each import/export page is checked
per role: import needs the declared add permission, export the declared view permission.
"""

import io

import pytest
from django.contrib import admin

from crmbridge.roles import ADMIN, CSM, REP
from tests.security.conftest import declared_permissions

pytestmark = pytest.mark.django_db

KNOWN: dict = {
    # (label, role, kind) -> reason, for failures found by this suite and not yet fixed.
    # Strict xfail: the mark flips to a failure the day it is fixed, so that it is then removed.
    # (The classification rule import/export entries were fixed in classification/admin.py.)
}


def _cases():
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda i: i[0]._meta.label):
        for kind in ("import", "export"):
            if not hasattr(model_admin, f"has_{kind}_permission"):
                continue
            for role in (ADMIN, CSM, REP):
                key = (model._meta.label, role, kind)
                marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
                yield pytest.param(*key, marks=marks, id="-".join(key))


def _url(model, kind):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{kind}/"


@pytest.mark.parametrize(("label", "role", "kind"), list(_cases()))
def test_import_and_export_pages_open_only_for_roles_declared_for_them(
    client, role_users, label, role, kind
):
    from django.apps import apps

    model = apps.get_model(label)
    codename = "add" if kind == "import" else "view"
    declared = (
        f"{model._meta.app_label}.{codename}_{model._meta.model_name}" in declared_permissions(role)
    )
    client.force_login(role_users[role])

    response = client.get(_url(model, kind))

    if declared:
        assert response.status_code in (200, 403), (label, role, kind)  # the admin may be stricter
    else:
        assert response.status_code == 403, (label, role, kind, response.status_code)


def test_a_rep_cannot_create_classification_rules_by_csv_import(client, rep_user):
    import re

    from classification.models import ClassificationRule

    client.force_login(rep_user)
    upload = io.BytesIO(
        b"keyword,dimension,value,priority,active\nRep Planted,department,Sales,0,1\n"
    )
    upload.name = "rules.csv"
    preview = client.post(
        "/admin/classification/classificationrule/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    fields = dict(
        re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', preview.content.decode())
    )
    client.post("/admin/classification/classificationrule/process_import/", fields)

    assert not ClassificationRule.objects.filter(keyword="Rep Planted").exists()
