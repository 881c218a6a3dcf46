import pytest

from classification.models import ClassificationRule
from tests.factories import ContactFactory

RULES = "/api/v1/classification/rules/"
PREVIEW = "/api/v1/classification/preview/"
IMPACT = "/api/v1/classification/impact/"


def test_a_csm_creates_lists_updates_and_deletes_rules(api_as, csm_user):
    api = api_as(csm_user)
    created = api.post(
        RULES,
        {"keyword": "Solutions Engineer", "dimension": "department", "value": "Sales"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["priority"] == 0 and body["active"] is True and body["warnings"] == []
    rule_id = body["id"]
    assert ClassificationRule.objects.get(pk=rule_id).created_by == csm_user

    listed = api.get(RULES, {"dimension": "department"}).json()["results"]
    assert [r["keyword"] for r in listed] == ["Solutions Engineer"]

    patched = api.patch(f"{RULES}{rule_id}/", {"priority": 3, "active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["priority"] == 3

    assert api.delete(f"{RULES}{rule_id}/").status_code == 204
    assert not ClassificationRule.objects.exists()


def test_the_api_rejects_duplicates_and_empty_phrases_in_words(api_as, csm_user):
    api = api_as(csm_user)
    first = api.post(
        RULES, {"keyword": "Finance", "dimension": "department", "value": "Finance"}, format="json"
    ).json()
    dup = api.post(
        RULES, {"keyword": "FINANCE!", "dimension": "department", "value": "Money"}, format="json"
    )
    assert dup.status_code == 400
    assert f"#{first['id']}" in str(dup.json()["keyword"])
    empty = api.post(
        RULES, {"keyword": "...", "dimension": "department", "value": "X"}, format="json"
    )
    assert empty.status_code == 400 and "no words" in str(empty.json())


def test_an_admin_may_use_the_rules_api_and_a_rep_may_not(api_as, admin_member, rep_user):
    assert api_as(admin_member).get(RULES).status_code == 200
    rep = api_as(rep_user)
    assert rep.get(RULES).status_code == 403
    assert (
        rep.post(
            RULES, {"keyword": "X", "dimension": "department", "value": "X"}, format="json"
        ).status_code
        == 403
    )
    assert rep.post(PREVIEW, {"titles": ["CEO"]}, format="json").status_code == 403
    assert api_as(None).get(RULES).status_code in (401, 403)


def test_preview_uses_the_active_rules_with_rule_ids(api_as, csm_user, department_rules):
    response = api_as(csm_user).post(
        PREVIEW, {"titles": ["Technical Project Manager II", "Chef"]}, format="json"
    )
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first == {
        "title": "Technical Project Manager II",
        "department": "Operations",
        "seniority": None,
        "department_rule": department_rules["Technical Project Manager"].pk,
        "seniority_rule": None,
    }
    assert second["department"] is None and second["department_rule"] is None


def test_preview_with_draft_rules_ignores_the_saved_ones(api_as, csm_user, department_rules):
    drafts = [
        {"keyword": "Technical", "dimension": "department", "value": "R&D", "id": 99},
        {"keyword": "Lead", "dimension": "seniority", "value": "Manager"},
        {"keyword": "lead", "dimension": "seniority", "value": "Director", "priority": -1},
    ]
    response = api_as(csm_user).post(
        PREVIEW, {"titles": ["Technical Lead", "Finance"], "rules": drafts}, format="json"
    )
    body = response.json()
    assert body["results"][0]["department"] == "R&D"
    assert body["results"][0]["department_rule"] == 99
    assert body["results"][0]["seniority"] == "Manager"
    assert body["results"][0]["seniority_rule"] == "draft-1"
    assert body["results"][1]["department"] is None  # the saved Finance rule is not used
    assert len(body["warnings"]) == 1 and "'lead'" in body["warnings"][0]


def test_preview_takes_at_most_ten_thousand_titles(api_as, csm_user):
    api = api_as(csm_user)
    ok = api.post(PREVIEW, {"titles": ["CEO"] * 10_000}, format="json")
    assert ok.status_code == 200 and len(ok.json()["results"]) == 10_000
    too_many = api.post(PREVIEW, {"titles": ["CEO"] * 10_001}, format="json")
    assert too_many.status_code == 400


def test_impact_counts_the_contacts_a_draft_rule_would_change(api_as, csm_user, department_rules):
    for _ in range(3):
        ContactFactory(title="Technical Lead", local=True)
    ContactFactory(title="Senior Technical Writer", local=True)
    ContactFactory(title="Finance Director", local=True)
    response = api_as(csm_user).post(
        IMPACT,
        {
            "keyword": "Technical",
            "dimension": "department",
            "value": "R&D",
            "id": department_rules["Technical"].pk,
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 200
    assert body["contacts_changing"] == 4 and body["titles_changing"] == 2
    assert body["examples"][0] == {
        "title": "Technical Lead",
        "contacts": 3,
        "before": {"department": "Engineering"},
        "after": {"department": "R&D"},
    }


def test_impact_of_deleting_a_rule(api_as, csm_user, department_rules):
    ContactFactory(title="Finance Director", local=True)
    rule = department_rules["Finance"]
    body = (
        api_as(csm_user)
        .post(
            IMPACT,
            {
                "keyword": rule.keyword,
                "dimension": "department",
                "value": rule.value,
                "id": rule.pk,
                "delete": True,
            },
            format="json",
        )
        .json()
    )
    assert body["contacts_changing"] == 1
    assert body["examples"][0]["after"] == {"department": None}


@pytest.mark.parametrize("payload", [{"titles": "CEO"}, {"titles": [1, {}]}, {}])
def test_preview_rejects_malformed_input_with_400(api_as, csm_user, payload):
    assert api_as(csm_user).post(PREVIEW, payload, format="json").status_code == 400


def test_the_api_records_who_changed_a_rule_in_its_history(api_as, csm_user):
    api = api_as(csm_user)
    rule_id = api.post(
        RULES, {"keyword": "Finance", "dimension": "department", "value": "F"}, format="json"
    ).json()["id"]
    api.patch(f"{RULES}{rule_id}/", {"value": "Finance"}, format="json")
    history = ClassificationRule.history.filter(id=rule_id).order_by("history_date")
    assert [(h.history_type, h.value, h.history_user) for h in history] == [
        ("+", "F", csm_user),
        ("~", "Finance", csm_user),
    ]


def test_a_keyword_that_grows_too_long_when_normalised_is_a_400(api_as, csm_user):
    response = api_as(csm_user).post(
        RULES, {"keyword": "\ufdfa" * 100, "dimension": "department", "value": "X"}, format="json"
    )
    assert response.status_code == 400


def test_a_value_differing_from_a_known_one_only_in_case_is_a_400(api_as, csm_user):
    api = api_as(csm_user)
    known = api.post(
        RULES, {"keyword": "Finance", "dimension": "department", "value": "Finance"}, format="json"
    )
    assert known.status_code == 201

    twin = api.post(
        RULES, {"keyword": "Treasury", "dimension": "department", "value": "finance"}, format="json"
    )
    assert twin.status_code == 400
    assert "“Finance” is already a department value" in str(twin.json()["value"])
    changed = api.patch(f"{RULES}{known.json()['id']}/", {"value": "FINANCE"}, format="json")
    assert changed.status_code == 400
    same = api.post(
        RULES, {"keyword": "Treasury", "dimension": "department", "value": "Finance"}, format="json"
    )
    assert same.status_code == 201
    # The other dimension has its own values.
    other = api.post(
        RULES, {"keyword": "CFO", "dimension": "seniority", "value": "finance"}, format="json"
    )
    assert other.status_code == 201
    assert sorted(ClassificationRule.objects.values_list("value", flat=True)) == [
        "Finance",
        "Finance",
        "finance",
    ]


def test_a_rule_whose_value_since_gained_a_twin_can_still_be_edited(api_as, csm_user):
    from classification.models import ClassificationValue

    rule = ClassificationRule.objects.create(
        keyword="Treasury", dimension="department", value="finance"
    )
    ClassificationValue.objects.create(dimension="department", value="Finance")

    changed = api_as(csm_user).patch(f"{RULES}{rule.pk}/", {"priority": 4}, format="json")

    assert changed.status_code == 200, changed.json()
    rule.refresh_from_db()
    assert (rule.priority, rule.value) == (4, "finance")
