import pytest


@pytest.fixture
def department_rules(db):
    from classification import services

    services.rulepack_load(name="department_examples")
    from classification.models import ClassificationRule

    return {rule.keyword: rule for rule in ClassificationRule.objects.all()}
