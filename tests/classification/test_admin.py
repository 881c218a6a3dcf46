import io
import re

import pytest
from django.urls import reverse

from classification.models import ClassificationRule, ClassificationValue, ReclassificationRun
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ClassificationRuleFactory,
    ContactFactory,
    OpportunityFactory,
)

RULES_URL = "/admin/classification/classificationrule/"


@pytest.fixture
def csm_client(client, csm_user):
    client.force_login(csm_user)
    return client


def test_a_csm_adds_a_rule_in_the_admin_and_contacts_follow(
    csm_client, csm_user, django_capture_on_commit_callbacks
):
    contact = ContactFactory(title="Head of Finance", local=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = csm_client.post(
            f"{RULES_URL}add/",
            {
                "keyword": "Finance",
                "dimension": "department",
                "value": "__new__",  # a value the organisation does not have yet, on purpose
                "new_value": "Finance",
                "priority": "0",
                "active": "on",
                "note": "",
            },
        )
    assert response.status_code == 302
    rule = ClassificationRule.objects.get()
    assert rule.created_by == csm_user and rule.history.count() == 1
    contact.refresh_from_db()
    assert contact.department == "Finance"


def test_the_admin_names_the_rule_with_the_same_phrase(csm_client):
    first = ClassificationRuleFactory(keyword="Finance", dimension="department", value="F")
    response = csm_client.post(
        f"{RULES_URL}add/",
        {"keyword": "FINANCE.", "dimension": "department", "value": "F", "priority": "0"},
    )
    assert response.status_code == 200
    assert f"Rule #{first.pk}" in response.content.decode()


def test_try_a_title_shows_the_winner_and_why(csm_client, department_rules):
    response = csm_client.get(RULES_URL, {"try_title": "Technical Project Manager II"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Operations</strong>" in page
    assert "3 words" in page  # the reason: more words than 'Technical'
    assert "unclassified" in page  # no seniority rule


def test_try_a_title_escapes_what_it_shows(csm_client):
    page = csm_client.get(RULES_URL, {"try_title": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_the_starter_pack_button_is_one_click_and_idempotent(csm_client):
    url = reverse("admin:classification_load_starter_pack")
    assert csm_client.get(url).status_code == 405
    csm_client.post(url)
    count = ClassificationRule.objects.count()
    csm_client.post(url)
    assert count > 100 and ClassificationRule.objects.count() == count


def _import(client, csv_text):
    upload = io.BytesIO(csv_text.encode())
    upload.name = "rules.csv"
    return client.post(
        f"{RULES_URL}import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )


def test_a_csv_import_with_a_bad_row_reports_its_line_and_applies_nothing(csm_client):
    response = _import(
        csm_client,
        "keyword,dimension,value,priority\n"
        "Finance,Department,Finance,0\n"
        "!!!,department,IT,0\n"
        "finance,department,Money,0\n",
    )
    page = response.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert response.status_code == 200
    assert "Some rows failed to validate" in text
    # Each bad row is reported with its row number in the file (header not counted).
    assert re.search(r" 2 [^A-Za-z]*keyword The keyword has no words", text)
    assert re.search(r" 3 [^A-Za-z]*keyword Rule #\d+ .* already has this department phrase", text)
    assert 'name="import_file_name"' not in page  # no confirm form
    assert not ClassificationRule.objects.exists()


def test_a_good_csv_is_previewed_then_applied_once_confirmed(
    csm_client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(title="Marketing Director", local=True)
    preview = _import(
        csm_client,
        "keyword,dimension,value,priority,active,note\n"
        "Marketing,department,Marketing,0,,from csv\n"
        "Director,Seniority,Director,5,1,\n",
    )
    page = preview.content.decode()
    assert preview.status_code == 200 and 'name="import_file_name"' in page
    assert not ClassificationRule.objects.exists()  # a preview applies nothing

    form = preview.context["confirm_form"]
    data = {name: form.initial.get(name, field.initial) for name, field in form.fields.items()}
    data = {k: v for k, v in data.items() if v is not None}
    with django_capture_on_commit_callbacks(execute=True):
        done = csm_client.post(f"{RULES_URL}process_import/", data)
    assert done.status_code == 302
    assert ClassificationRule.objects.count() == 2
    assert ClassificationValue.objects.filter(dimension="seniority", value="Director").exists()
    contact.refresh_from_db()
    assert (contact.department, contact.seniority) == ("Marketing", "Director")
    assert ReclassificationRun.objects.get().state == ReclassificationRun.State.DONE


def test_the_export_has_the_import_columns(csm_client, department_rules):
    response = csm_client.post(
        f"{RULES_URL}export/",
        {
            "format": "0",
            "resource": "0",
            **{
                f"classificationruleresource_{f}": "on"
                for f in ("id", "keyword", "dimension", "value", "priority", "active", "note")
            },
        },
    )
    assert response.status_code == 200
    first_line = response.content.decode().splitlines()[0]
    assert first_line == "id,keyword,dimension,value,priority,active,note"


def test_the_unclassified_queue_links_to_a_prefilled_rule(csm_client):
    ContactFactory(title="Head of Growth", local=True)
    ContactFactory(title="Head of Growth", local=True)
    ContactFactory(title="Astronaut", local=True)
    page = csm_client.get(
        reverse("admin:classification_unclassified"), {"dimension": "department"}
    ).content.decode()
    assert page.index("Head of Growth") < page.index("Astronaut")
    # The rule is a keyword: the title's distinctive words, not the whole title.
    assert "keyword=Growth&amp;dimension=department" in page
    assert "Create a rule “Growth”" in page
    add = csm_client.get(f"{RULES_URL}add/", {"keyword": "Growth", "dimension": "department"})
    assert 'value="Growth"' in add.content.decode()


def test_the_executive_engagement_page_lists_accounts_with_engaged_executives(csm_client, csm_user):
    acme = AccountFactory(name="Acme <GmbH>")
    deal = OpportunityFactory(name="Acme renewal", account=acme)
    vp = ContactFactory(
        title="VP Sales", seniority="Vice President", account=acme, first_name="Vera", local=True
    )
    ActivityFactory(
        external_id="exec-1",
        kind="meeting",
        days_ago=0,
        owner=csm_user,
        account=acme,
        opportunity=deal,
        participants=[vp],
    )
    response = csm_client.get(reverse("admin:activities_executive_engagement"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme &lt;GmbH&gt;" in page and "Vera" in page
    assert reverse("admin:accounts_account_change", args=[acme.pk]) in page
    assert reverse("admin:accounts_opportunity_change", args=[deal.pk]) in page


def test_a_rep_cannot_open_the_rules_admin(client, rep_user):
    client.force_login(rep_user)
    for url in [
        RULES_URL,
        f"{RULES_URL}add/",
        reverse("admin:classification_unclassified"),
        reverse("admin:activities_executive_engagement"),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("admin:classification_load_starter_pack")).status_code == 403
    assert not ClassificationRule.objects.exists()


def test_a_csm_cannot_change_global_settings(csm_client):
    from crmbridge.models import GlobalSettings

    obj = GlobalSettings.load()
    url = reverse("admin:crmbridge_globalsettings_change", args=[obj.pk])
    response = csm_client.post(url, {"sync_interval_minutes": "5"})
    assert response.status_code == 403
    obj.refresh_from_db()
    assert obj.sync_interval_minutes == 30


def test_the_run_list_shows_progress(csm_client):
    ReclassificationRun.objects.create(state="running", total=10, processed=4)
    page = csm_client.get("/admin/classification/reclassificationrun/").content.decode()
    assert "4 / 10 (40%)" in page


def test_a_rep_can_neither_import_nor_export_rules(client, rep_user, department_rules):
    client.force_login(rep_user)
    assert client.get(f"{RULES_URL}import/").status_code == 403
    assert client.get(f"{RULES_URL}export/").status_code == 403
    response = _import(client, "keyword,dimension,value\nFinance Ops,department,Finance\n")
    assert response.status_code == 403
    assert not ClassificationRule.objects.filter(keyword="Finance Ops").exists()


def test_the_rule_form_offers_the_known_values_and_adding_one_explicitly(csm_client):
    ClassificationValue.objects.create(dimension="department", value="R&D <labs>")
    page = csm_client.get(f"{RULES_URL}add/").content.decode()
    assert '<option value="R&amp;D &lt;labs&gt;">R&amp;D &lt;labs&gt;</option>' in page
    assert '<option value="__new__">Add a new value…</option>' in page


def test_a_csm_can_queue_a_run_again_after_a_failure(
    csm_client, django_capture_on_commit_callbacks
):
    failed = ReclassificationRun.objects.create(state="failed", error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        response = csm_client.post(
            "/admin/classification/reclassificationrun/",
            {"action": "run_again", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    assert ReclassificationRun.objects.exclude(pk=failed.pk).get().state == "done"


def test_a_typo_in_a_value_is_refused_not_made_a_new_department(csm_client):
    ClassificationValue.objects.create(dimension="department", value="Engineering")
    typo = {"keyword": "Platform", "dimension": "department", "priority": "0", "active": "on"}

    free_text = csm_client.post(f"{RULES_URL}add/", {**typo, "value": "Enginering"})
    other_case = csm_client.post(
        f"{RULES_URL}add/", {**typo, "value": "__new__", "new_value": "engineering"}
    )
    not_asked = csm_client.post(
        f"{RULES_URL}add/", {**typo, "value": "Engineering", "new_value": "Enginering"}
    )

    assert "Select a valid choice" in free_text.content.decode()
    assert "“Engineering” is already a department value" in other_case.content.decode()
    assert "To add it, choose “Add a new value…”" in not_asked.content.decode()
    assert not ClassificationRule.objects.exists()
    assert list(ClassificationValue.objects.values_list("value", flat=True)) == ["Engineering"]


def test_a_value_of_the_other_dimension_is_refused(csm_client):
    ClassificationValue.objects.create(dimension="seniority", value="Director")

    response = csm_client.post(
        f"{RULES_URL}add/",
        {"keyword": "Platform", "dimension": "department", "value": "Director", "priority": "0"},
    )

    assert "“Director” is not a department value" in response.content.decode()
    assert not ClassificationRule.objects.exists()


def test_a_chosen_value_saves_the_rule(csm_client):
    ClassificationValue.objects.create(dimension="department", value="Engineering")

    response = csm_client.post(
        f"{RULES_URL}add/",
        {"keyword": "Platform", "dimension": "department", "value": "Engineering", "priority": "0"},
    )

    assert response.status_code == 302
    assert ClassificationRule.objects.get().value == "Engineering"


def test_a_csv_row_whose_value_differs_from_a_known_one_only_in_case_is_refused(csm_client):
    ClassificationValue.objects.create(dimension="department", value="Engineering")
    response = _import(
        csm_client,
        "keyword,dimension,value,priority\nDeveloper,department,engineering,0\n",
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))

    assert "Some rows failed to validate" in text
    assert re.search(r" 1 [^A-Za-z]*value “Engineering” is already a department value", text)
    assert not ClassificationRule.objects.exists()


def test_one_csv_cannot_bring_a_new_value_in_two_cases(csm_client):
    response = _import(
        csm_client,
        "keyword,dimension,value,priority\n"
        "Treasury,department,Finance,0\n"
        "Accounts Payable,department,finance,0\n",
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))

    assert re.search(r" 2 [^A-Za-z]*value “Finance” is already a department value", text)
    assert not ClassificationRule.objects.exists()
    assert not ClassificationValue.objects.exists()  # the refused import left nothing behind
