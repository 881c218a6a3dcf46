"""The import command and the domains CSV import/export."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.models import AccountDomain
from activities.models import Activity
from tests.factories import AccountFactory, activity_item

pytestmark = pytest.mark.django_db


def test_import_activities_loads_json_lines_and_summarises(tmp_path, rep_user, org_settings):
    acme = AccountFactory(name="Acme", website="acme.com")
    good = activity_item(rep_user, emails=["a@acme.com"], external_id="i-1")
    lines = [
        json.dumps(good),
        json.dumps(activity_item(rep_user, emails=["broken@"], external_id="i-2")),
        "{not json",
        json.dumps(good),
    ]
    path = tmp_path / "activities.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    call_command("import_activities", str(path), "--no-progress", stdout=out)
    text = out.getvalue()
    assert "created 1, already present 1, rejected 2" in text
    assert "line 2" in text and "'broken@'" in text
    assert "line 3" in text
    activity = Activity.objects.get(external_id="i-1")
    assert activity.source == "import" and activity.account == acme
    again = io.StringIO()
    call_command("import_activities", str(path), "--no-progress", stdout=again)
    assert "created 0, already present 2" in again.getvalue()


def test_domains_csv_export_and_import(client, admin_member, org_settings):
    acme = AccountFactory(name="Acme", website="acme.com")
    client.force_login(admin_member)
    export = client.post(
        "/admin/accounts/accountdomain/export/",
        {
            "format": "0",
            "resource": "0",
            "accountdomainresource_account": "on",
            "accountdomainresource_domain": "on",
            "accountdomainresource_source": "on",
        },
    )
    assert export["Content-Disposition"].startswith("attachment")
    assert f"{acme.sf_id},acme.com,website" in export.content.decode()

    csv = f"account,domain\n{acme.sf_id},https://www.Acme-Labs.io/\n{acme.sf_id},acme.com\n"
    upload = SimpleUploadedFile("domains.csv", csv.encode(), content_type="text/csv")
    preview = client.post(
        "/admin/accounts/accountdomain/import/",
        {"format": "0", "resource": "0", "import_file": upload},
    )
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "acme-labs.io" in page
    confirm = {
        name: value
        for name, value in [
            ("import_file_name", _hidden(page, "import_file_name")),
            ("original_file_name", _hidden(page, "original_file_name")),
            ("format", _hidden(page, "format")),
            ("resource", _hidden(page, "resource")),
        ]
        if value is not None
    }
    done = client.post("/admin/accounts/accountdomain/process_import/", confirm)
    assert done.status_code == 302, done.content.decode()[:3000]
    row = AccountDomain.objects.get(account=acme, domain="acme-labs.io")
    assert row.source == "admin" and row.created_by == admin_member
    assert AccountDomain.objects.filter(account=acme).count() == 2


def _hidden(page, name):
    import re

    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    return found.group(1) if found else None
