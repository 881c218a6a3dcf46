"""Global Settings: one row, editable, every change kept with who made it."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from crmbridge.models import GlobalSettings

pytestmark = pytest.mark.django_db


def test_the_settings_row_cannot_be_duplicated():
    GlobalSettings.load()

    with pytest.raises(IntegrityError), transaction.atomic():
        GlobalSettings.objects.create(pk=2)
    assert GlobalSettings.objects.count() == 1


def test_the_admin_offers_no_add_and_no_delete(client, admin_member):
    client.force_login(admin_member)
    obj = GlobalSettings.load()

    assert client.get(reverse("admin:crmbridge_globalsettings_add")).status_code == 403
    delete_url = reverse("admin:crmbridge_globalsettings_delete", args=[obj.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    page = client.get(reverse("admin:crmbridge_globalsettings_change", args=[obj.pk]))
    assert b"deletelink" not in page.content
    assert GlobalSettings.objects.count() == 1


def test_the_changelist_opens_the_one_row(client, admin_member):
    client.force_login(admin_member)

    response = client.get(reverse("admin:crmbridge_globalsettings_changelist"))

    assert response.status_code == 302
    assert response.url == reverse("admin:crmbridge_globalsettings_change", args=[1])


def test_the_api_shows_the_settings_with_lists_as_arrays(api_as, admin_member):
    response = api_as(admin_member).get("/api/v1/settings/")

    assert response.status_code == 200
    assert response.json() == {
        "contact_creation_enabled": True,
        "create_as": "contact",
        "required_contact_fields": [],
        "internal_domains": [],
        "extra_personal_domains": [],
        "auto_attribute_updates": False,
        "sync_interval_minutes": 30,
        "api_budget_percent": 20,
        "capture_body": "first",
        "capture_body_chars": 2000,
        "capture_exclusions": [],
    }


def test_patch_changes_only_the_fields_given(api_as, admin_member):
    response = api_as(admin_member).patch(
        "/api/v1/settings/",
        {"internal_domains": ["Crmbridge.example", "@corp.example"], "create_as": "lead"},
        format="json",
    )

    assert response.status_code == 200, response.content
    settings = GlobalSettings.load()
    assert settings.internal_domains == ["crmbridge.example", "corp.example"]
    assert settings.create_as == "lead"
    assert settings.sync_interval_minutes == 30


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"create_as": "opportunity"}, "create_as"),
        ({"required_contact_fields": ["country", "shoe_size"]}, "required_contact_fields"),
        ({"required_contact_fields": "country"}, "required_contact_fields"),
        ({"sync_interval_minutes": 0}, "sync_interval_minutes"),
        ({"api_budget_percent": 101}, "api_budget_percent"),
        ({"internal_domains": ["not a domain"]}, "internal_domains"),
        ({"internal_domains": [None]}, "internal_domains"),
        ({"contact_creation_enabled": "perhaps"}, "contact_creation_enabled"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_as, admin_member, payload, field):
    response = api_as(admin_member).patch("/api/v1/settings/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert GlobalSettings.load().create_as == "contact"


def test_a_body_that_is_not_json_is_a_400(api_as, admin_member):
    response = api_as(admin_member).patch(
        "/api/v1/settings/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400


def test_changes_are_kept_with_who_and_what(api_as, client, admin_member):
    api_as(admin_member).patch("/api/v1/settings/", {"sync_interval_minutes": 15}, format="json")
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_globalsettings_change", args=[1])
    form = {
        "contact_creation_enabled": "",
        "create_as": "contact",
        "required_contact_fields": ["country"],
        "internal_domains": "",
        "extra_personal_domains": "",
        "sync_interval_minutes": "15",
        "api_budget_percent": "20",
        "capture_body": "first",
        "capture_body_chars": "2000",
        "capture_exclusions": "",
    }
    assert client.post(url, form).status_code == 302

    history = list(GlobalSettings.history.order_by("history_date"))
    latest, previous = history[-1], history[-2]
    assert latest.history_user == admin_member
    assert previous.history_user == admin_member
    changed = {change.field for change in latest.diff_against(previous).changes}
    assert changed == {"contact_creation_enabled", "required_contact_fields"}
    page = client.get(reverse("admin:crmbridge_globalsettings_history", args=[1]))
    assert page.status_code == 200
    assert admin_member.get_full_name().encode() in page.content  # the one display name


def settings_form(**changes):
    form = {
        "contact_creation_enabled": "on",
        "create_as": "contact",
        "internal_domains": "",
        "extra_personal_domains": "",
        "sync_interval_minutes": "30",
        "api_budget_percent": "20",
        "capture_body": "first",
        "capture_body_chars": "2000",
        "capture_exclusions": "",
    }
    form.update(changes)
    return form


def test_the_form_offers_checkboxes_and_one_domain_per_line(client, admin_member):
    obj = GlobalSettings.load()
    obj.internal_domains = ["corp.example", "corp-mail.example"]
    obj.required_contact_fields = ["title"]
    obj.save()
    client.force_login(admin_member)

    page = client.get(reverse("admin:crmbridge_globalsettings_change", args=[1])).content.decode()

    for value in ("country", "title", "phone"):
        assert f'type="checkbox" name="required_contact_fields" value="{value}"' in page
    assert 'value="title" id="id_required_contact_fields_1" checked' in page
    assert ">\ncorp.example\ncorp-mail.example</textarea>" in page
    assert "JSON" not in page


def test_an_admin_types_fields_and_domains_as_a_person_would(client, admin_member):
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_globalsettings_change", args=[1])

    response = client.post(
        url,
        settings_form(
            required_contact_fields=["country", "title"],
            internal_domains="Corp.example\r\n\r\n@corp-mail.example\r\n",
            extra_personal_domains="a.com, b.com",
        ),
    )

    assert response.status_code == 302
    settings = GlobalSettings.load()
    assert settings.required_contact_fields == ["country", "title"]
    assert settings.internal_domains == ["corp.example", "corp-mail.example"]
    assert settings.extra_personal_domains == ["a.com", "b.com"]


def test_each_bad_domain_is_named_with_its_line(client, admin_member):
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_globalsettings_change", args=[1])

    response = client.post(
        url, settings_form(extra_personal_domains="good.example\nnot a domain\njane@x.example")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["extra_personal_domains"]
    assert errors == [
        "Line 2: “not a domain” is not a domain (write it like example.com).",
        "Line 3: “jane@x.example” is not a domain (write it like example.com).",
    ]
    assert GlobalSettings.load().extra_personal_domains == []


def test_an_unknown_required_field_is_refused(client, admin_member):
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_globalsettings_change", args=[1])

    response = client.post(url, settings_form(required_contact_fields=["shoe_size"]))

    assert response.status_code == 200
    assert "required_contact_fields" in response.context["adminform"].form.errors
