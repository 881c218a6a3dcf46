"""Hostile input: quotes, backslashes, SOQL keywords, HTML and script tags, very long strings,
NUL bytes, mixed scripts, right-to-left text. Through the API, the admin and CSV import:
nothing reaches SOQL unescaped, nothing renders unescaped, nothing is a 500.

Run on PostgreSQL too (CI does): PostgreSQL refuses NUL in text, so a NUL that slips past
validation is a 500 there and not on SQLite.
"""

import io
import json
import re

import pytest
from django.urls import reverse

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('pwned')</script>"
HOSTILE = [
    "O'Brien",
    "back\\slash \\' \\\\ end",
    "' OR Name LIKE '%",
    "x' OR Id != null OR LastName = 'y",
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "Ünïcödé 名前 Имя Ελληνικά",
    "مرحبا עברית \u202eevil\u202c mixed",
]
NUL = "Jane\x00Doe"


def _raw_script_in(html):
    """A raw, executable <script> with our payload (the escaped form is harmless)."""
    return "<script>alert('pwned')" in html or "<img src=x onerror" in html


# -- SOQL ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_queried_as_a_value_never_as_soql(sf_org, sf_client, name):
    target = sf_org.insert("Contact", {"LastName": name})
    sf_org.insert("Contact", {"LastName": "Decoy"})
    sf_org.insert("Contact", {"LastName": "O"})

    found = sf_client.query_all("SELECT Id, LastName FROM Contact WHERE LastName = {n}", n=name)

    assert [(r["Id"], r["LastName"]) for r in found] == [(target, name)]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_contact_crmbridge_creates_arrives_in_salesforce_exactly_as_typed(
    sf_org, sf_client, name
):
    from accounts.services import contact_create
    from integrations.sync.push import outbox_push

    sf_org.insert("Contact", {"LastName": "Decoy"})
    contact = contact_create(
        first_name="Jane", last_name=name, email="jane@prospect.example", account=None
    )

    outbox_push(client=sf_client)

    contact.refresh_from_db()
    stored = [r for r in sf_org.rows("Contact") if r.get("Crmbridge_Id__c") == contact.crmbridge_id]
    assert [r["LastName"] for r in stored] == [name]
    found = sf_client.query_all("SELECT Id FROM Contact WHERE LastName = {n}", n=name)
    assert [r["Id"] for r in found] == [contact.sf_id]


# -- the API ------------------------------------------------------------------------------------
def _activity(owner_email, external_id, *, subject="Hello", name="Jane Doe", title=""):
    return {
        "external_id": external_id,
        "kind": "email",
        "occurred_at": "2026-11-02T09:30:00Z",
        "owner": owner_email,
        "subject": subject,
        "participants": [{"email": "jane.doe@prospect.example", "name": name, "title": title}],
    }


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_activity_text_is_stored_exactly_and_shown_escaped(
    api_as, client, admin_member, value
):
    api = api_as(admin_member)

    response = api.post(
        "/api/v1/activities/",
        _activity(admin_member.email, f"h-{HOSTILE.index(value)}", subject=value, name=value,
                  title=value[:128]),
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject"] == value
    assert body["participants"][0]["name"] == value
    client.force_login(admin_member)
    for url in [
        reverse("admin:activities_activity_changelist"),
        reverse("admin:activities_activity_match", args=[body["id"]]),
        reverse("admin:activities_activity_change", args=[body["id"]]),
        reverse("admin:activities_activity_edit_match", args=[body["id"]]),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert not _raw_script_in(page.content.decode()), url


def test_a_script_in_a_subject_is_escaped_in_the_feed(api_as, client, admin_member):
    api_as(admin_member).post(
        "/api/v1/activities/", _activity(admin_member.email, "xss", subject=SCRIPT), format="json"
    )
    client.force_login(admin_member)

    html = client.get(reverse("admin:activities_activity_changelist")).content.decode()

    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    assert not _raw_script_in(html)


NUL_REQUESTS = {
    # id: (path, payload builder taking the owner's e-mail and an Account's Salesforce Id)
    "activity-subject": ("/api/v1/activities/", lambda o, a: _activity(o, "n1", subject=NUL)),
    "participant-name": ("/api/v1/activities/", lambda o, a: _activity(o, "n2", name=NUL)),
    "external-id": ("/api/v1/activities/", lambda o, a: _activity(o, NUL)),
    "bulk-title": (
        "/api/v1/activities/bulk/",
        lambda o, a: {"activities": [_activity(o, "n3", title=NUL)]},
    ),
    "profile-name": ("/api/v1/profiles/", lambda o, a: {"name": NUL}),
    "account-domain": (
        "/api/v1/account-domains/",
        lambda o, a: {"account": a, "domain": "nul\x00.example"},
    ),
    "rule-keyword": (
        "/api/v1/classification/rules/",
        lambda o, a: {"keyword": NUL, "dimension": "department", "value": "IT"},
    ),
    "preview-title": ("/api/v1/classification/preview/", lambda o, a: {"titles": [NUL]}),
    "dialer-project": ("/api/v1/dialer/projects/", lambda o, a: {"name": NUL}),
}


@pytest.mark.parametrize("case", list(NUL_REQUESTS))
def test_nul_bytes_in_json_are_refused_never_stored_never_a_500(api_as, admin_member, case):
    account = AccountFactory(name="Prospect", sf_id="001000000000001AAA")
    path, build = NUL_REQUESTS[case]
    payload = build(admin_member.email, account.sf_id)

    response = api_as(admin_member).post(path, json.dumps(payload), content_type="application/json")

    assert response.status_code in (200, 201, 400), (path, response.status_code)
    # Accepted only where the NUL reaches no stored text (bulk answers per item; preview reads).
    assert "\\u0000" not in response.content.decode() and "\x00" not in response.content.decode()
    if path == "/api/v1/activities/bulk/":
        assert response.json()["results"][0]["status"] == "rejected"


def test_nul_bytes_in_a_settings_patch_are_a_400(api_as, admin_member):
    response = api_as(admin_member).patch(
        "/api/v1/settings/", {"internal_domains": ["acme\x00.example"]}, format="json"
    )

    assert response.status_code == 400


def test_nul_bytes_in_a_dialer_call_result_are_not_a_500(client):
    from integrations.dialer.services import project_create

    project, secret = project_create(name="Outbound")
    response = client.post(
        "/api/v1/dialer/call-results/",
        json.dumps({"project": project.pk, "call_id": "c\x00-1", "result_code": "YES",
                    "record": {"LastName": NUL, "note\x00": "x"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip

    assert response.status_code in (202, 400), response.status_code


def test_very_long_strings_are_a_400_naming_the_field_not_a_500(api_as, admin_member):
    api = api_as(admin_member)
    long_text = "A" * 100_000

    for path, payload in [
        ("/api/v1/activities/", _activity(admin_member.email, "long-1", subject=long_text)),
        ("/api/v1/activities/", _activity(admin_member.email, "long-2", name=long_text)),
        ("/api/v1/activities/", _activity(admin_member.email, long_text)),
        ("/api/v1/profiles/", {"name": long_text}),
        (
            "/api/v1/classification/rules/",
            {"keyword": long_text, "dimension": "department", "value": "IT"},
        ),  # fmt: skip
        ("/api/v1/dialer/projects/", {"name": long_text}),
    ]:
        response = api.post(path, payload, format="json")
        assert response.status_code == 400, (path, response.status_code)


# -- the admin ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_profile_name_typed_in_the_admin_is_stored_and_shown_escaped(
    client, admin_member, value
):
    from crmbridge.models import ConfigurationProfile

    client.force_login(admin_member)
    response = client.post(
        reverse("admin:crmbridge_configurationprofile_add"),
        {
            "name": value,
            "contact_creation_enabled": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    profile = ConfigurationProfile.objects.get(name=value)
    for url in [
        reverse("admin:crmbridge_configurationprofile_changelist"),
        reverse("admin:crmbridge_configurationprofile_change", args=[profile.pk]),
        reverse("admin:crmbridge_configurationprofile_history", args=[profile.pk]),
    ]:
        page = client.get(url)
        assert page.status_code == 200
        assert not _raw_script_in(page.content.decode()), url


def test_a_nul_byte_typed_in_an_admin_form_is_a_form_error(client, admin_member):
    client.force_login(admin_member)

    response = client.post(
        reverse("admin:crmbridge_configurationprofile_add"),
        {"name": NUL, "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


def test_a_hostile_search_in_the_feed_is_not_a_500(client, admin_member):
    client.force_login(admin_member)
    for term in [*HOSTILE, "%", "_", "\\", "A" * 5000]:
        response = client.get(reverse("admin:activities_activity_changelist"), {"q": term})
        assert response.status_code == 200, term
        assert not _raw_script_in(response.content.decode())


# -- CSV import ---------------------------------------------------------------------------------
def _import(client, url_base, csv_text):
    upload = io.BytesIO(csv_text.encode("utf-8"))
    upload.name = "hostile.csv"
    preview = client.post(
        f"{url_base}import/", {"import_file": upload, "format": "0", "resource": "0"}
    )
    fields = dict(
        re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', preview.content.decode())
    )
    return preview, fields


def test_hostile_classification_rules_imported_by_csv_are_escaped_and_stored_exactly(
    client, admin_member
):
    from classification.models import ClassificationRule

    client.force_login(admin_member)
    rows = ["keyword,dimension,value,priority,active"]
    keywords = [SCRIPT + " Engineer", "O'Brien Director", '"Quoted" Lead', "مدير Manager"]
    for keyword in keywords:
        escaped = keyword.replace('"', '""')
        rows.append(f'"{escaped}",department,Engineering,0,1')
    base = "/admin/classification/classificationrule/"

    preview, fields = _import(client, base, "\n".join(rows) + "\n")

    assert preview.status_code == 200
    assert not _raw_script_in(preview.content.decode())
    done = client.post(f"{base}process_import/", fields)
    assert done.status_code in (200, 302)
    stored = set(ClassificationRule.objects.values_list("keyword", flat=True))
    assert set(keywords) <= stored, stored
    listing = client.get(base)
    assert not _raw_script_in(listing.content.decode())


def test_hostile_account_domains_imported_by_csv_are_refused_with_reasons_not_a_500(
    client, admin_member
):
    from accounts.models import AccountDomain

    AccountFactory(name="Prospect", sf_id="001000000000002AAA", website="prospect.example")
    client.force_login(admin_member)
    lines = ["account,domain"]
    for bad in [SCRIPT, "' OR 1=1 --", "a" * 300 + ".com", "ex\\ample.com"]:
        lines.append('001000000000002AAA,"' + bad.replace('"', '""') + '"')

    preview, fields = _import(client, "/admin/accounts/accountdomain/", "\n".join(lines) + "\n")

    assert preview.status_code == 200
    assert not _raw_script_in(preview.content.decode())
    if fields.get("import_file_name"):
        client.post("/admin/accounts/accountdomain/process_import/", fields)
    domains = set(AccountDomain.objects.values_list("domain", flat=True))
    assert not any("<" in d or "'" in d or "\\" in d for d in domains), domains


@pytest.mark.parametrize("bad", ["initech-mail.example", SCRIPT, "' OR 1=1 --"])
def test_a_bad_domain_typed_in_the_account_inline_is_a_form_error(client, admin_member, bad):
    account = AccountFactory(name="Initech", sf_id="001000000000003AAA")
    client.force_login(admin_member)

    response = client.post(
        reverse("admin:accounts_account_change", args=[account.pk]),
        {
            "name": "Initech",
            "domains-TOTAL_FORMS": "1",
            "domains-INITIAL_FORMS": "0",
            "domains-0-domain": bad,
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert not _raw_script_in(response.content.decode())
    assert "is not a domain" in response.content.decode()
