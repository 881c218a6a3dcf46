import pytest
from django.core.exceptions import ValidationError

from classification import selectors, services
from classification.models import ClassificationRule, ClassificationValue, RuleSetVersion


def test_it_rejects_an_empty_or_punctuation_only_keyword(db):
    for keyword in ["", "   ", "--", "!?."]:
        with pytest.raises(ValidationError) as err:
            services.rule_create(keyword=keyword, dimension="department", value="IT")
        assert "no words" in str(err.value)
    assert not ClassificationRule.objects.exists()


def test_it_rejects_the_same_phrase_twice_in_a_dimension_naming_the_other_rule(db):
    first, _ = services.rule_create(
        keyword="Solutions Engineer", dimension="department", value="Sales"
    )
    with pytest.raises(ValidationError) as err:
        services.rule_create(keyword="solutions-ENGINEER!", dimension="department", value="IT")
    assert f"#{first.pk}" in str(err.value) and "Solutions Engineer" in str(err.value)
    # The same phrase in the other dimension is fine.
    services.rule_create(keyword="Solutions Engineer", dimension="seniority", value="Manager")


def test_it_matches_case_by_nfkc_and_casefold_for_duplicates(db):
    services.rule_create(keyword="Straße", dimension="department", value="Ops")
    with pytest.raises(ValidationError):
        services.rule_create(keyword="STRASSE", dimension="department", value="Ops")


def test_updating_a_rule_keeps_its_own_phrase_allowed(db):
    rule, _ = services.rule_create(keyword="Finance", dimension="department", value="Finance")
    rule, warnings = services.rule_update(rule=rule, priority=5)
    assert rule.priority == 5 and warnings == []


def test_every_rule_change_bumps_the_version_and_adds_the_value(
    db, django_capture_on_commit_callbacks
):
    start = selectors.ruleset_version()
    with django_capture_on_commit_callbacks(execute=True):
        rule, _ = services.rule_create(keyword="Finance", dimension="department", value="Money")
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_update(rule=rule, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_delete(rule=rule)
    assert RuleSetVersion.objects.get().version == start + 3
    assert ClassificationValue.objects.filter(dimension="department", value="Money").exists()


def test_the_starter_pack_loads_once(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.rulepack_load(name="seniority_starter")
    second = services.rulepack_load(name="seniority_starter")
    assert first["created"] > 100
    assert second == {"created": 0, "skipped": first["created"] + first["skipped"]}
    ruleset = selectors.active_ruleset()
    assert ruleset.classify("Vice President of Sales").seniority_value == "Vice President"
    assert ruleset.classify("Geschäftsführer").seniority_value == "Executive"


def test_a_shadowed_rule_gets_a_warning(db):
    rule, _ = services.rule_create(keyword="Manager", dimension="seniority", value="Manager")
    # Two rules with one phrase cannot be saved; a rule beaten by an equal-phrase one is a
    # warning in previews of draft sets (see test_api), and the model guards the saved set.
    assert services.rule_warnings(rule=rule) == []


def test_classify_contact_fields_uses_the_active_rules(db, department_rules):
    services.rulepack_load(name="seniority_starter")
    assert services.classify_contact_fields(title="Technical Project Manager II") == (
        "Operations",
        "Manager",
    )
    assert services.classify_contact_fields(title="Nontechnical wizard") == (None, None)


def test_a_classification_does_no_query_once_the_rules_are_compiled(
    db, department_rules, django_assert_num_queries
):
    selectors.active_ruleset()
    with django_assert_num_queries(1):  # the version only
        ruleset = selectors.active_ruleset()
    with django_assert_num_queries(0):
        assert ruleset.classify("Technical Lead").department_value == "Engineering"
        ruleset.classify_many(["Finance Director", "Marketing Manager"] * 100)
        services.classify_contact_fields(title="Head of Finance", ruleset=ruleset)


def test_the_compiled_rules_are_rebuilt_only_when_the_version_changes(db, department_rules):
    first = selectors.active_ruleset()
    assert selectors.active_ruleset() is first
    services.rule_create(keyword="Sales", dimension="department", value="Sales")
    second = selectors.active_ruleset()
    assert second is not first
    assert second.classify("Sales Director").department_value == "Sales"


def test_it_pulls_the_picklist_values_from_salesforce(db, sf_client):
    services.value_ensure(dimension="seniority", value="Executive")
    added = services.classification_values_refresh_from_salesforce()
    assert "Engineering" in added["department"]
    assert "Executive" not in added["seniority"]  # already known
    values = ClassificationValue.objects.filter(dimension="seniority")
    assert values.get(value="Executive").source == ClassificationValue.Source.SALESFORCE
    assert {"Vice President", "Director"} <= set(values.values_list("value", flat=True))
    again = services.classification_values_refresh_from_salesforce()
    assert again == {"department": [], "seniority": []}


def test_a_rule_pack_takes_the_orgs_spelling_of_a_value(db, django_capture_on_commit_callbacks):
    from classification.engine import load_rulepack
    from classification.models import ClassificationValue

    pack_value = load_rulepack("seniority_starter")[0]["value"]
    ClassificationValue.objects.create(dimension="seniority", value=pack_value.lower())
    with django_capture_on_commit_callbacks(execute=True):
        services.rulepack_load(name="seniority_starter")

    values = set(ClassificationRule.objects.values_list("value", flat=True))
    assert pack_value.lower() in values and pack_value not in values


def test_a_value_is_not_added_twice_in_two_cases(db):
    known = ClassificationValue.objects.create(dimension="department", value="Finance")
    with pytest.raises(ValidationError, match="already a department value"):
        ClassificationValue(dimension="department", value="FINANCE").full_clean()
    known.value = "finance"  # a value renamed to another case is not its own twin
    known.full_clean()
    ClassificationValue(dimension="seniority", value="finance").full_clean()
