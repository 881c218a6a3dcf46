import itertools

import pytest

from accounts.models import Contact

_seq = itertools.count(1)


@pytest.fixture
def make_contact(db):
    def make(title="", **fields):
        n = next(_seq)
        fields.setdefault("last_name", f"Person{n}")
        fields.setdefault("email", f"person{n}@example.com")
        return Contact.objects.create(title=title, **fields)

    return make


@pytest.fixture
def department_rules(db):
    from classification import services

    services.rulepack_load(name="department_examples")
    from classification.models import ClassificationRule

    return {rule.keyword: rule for rule in ClassificationRule.objects.all()}
