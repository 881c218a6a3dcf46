import io

from accounts.models import Contact
from classification.demo import load_demo
from classification.models import ClassificationRule, ClassificationValue
from tests.factories import ContactFactory


def test_the_demo_loads_rules_and_classifies_contacts_twice_safely(db, sf_client):
    vp = ContactFactory(title="Vice President, Information Systems", sf_id="003000000000001AAA")
    ContactFactory(title="Geschäftsführer", local=True)
    out = io.StringIO()
    load_demo(out)
    rules = ClassificationRule.objects.count()
    vp.refresh_from_db()
    assert (vp.department, vp.seniority) == ("IT", "Vice President")
    assert Contact.objects.get(title="Geschäftsführer").seniority == "Executive"
    assert ClassificationValue.objects.filter(source="salesforce").exists()
    load_demo(out)
    assert ClassificationRule.objects.count() == rules
    assert "0 changed" in out.getvalue().splitlines()[-1]


def test_the_system_checks_pass(db):
    from django.core import checks

    messages = [m for m in checks.run_checks() if m.id and m.id.startswith("classification.")]
    assert messages == []
