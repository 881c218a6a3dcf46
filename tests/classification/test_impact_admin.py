"""The rule form's "Preview impact": what an unsaved rule would change, before saving."""

import pytest
from django.urls import reverse

from classification import services
from classification.models import ClassificationRule
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts():
    for title in ["Technical Lead", "Technical Lead", "Marketing Manager"]:
        ContactFactory(title=title, local=True)


def test_it_counts_the_contacts_an_unsaved_rule_would_change(client, csm_user, contacts):
    client.force_login(csm_user)

    page = client.get(
        reverse("admin:classification_rule_impact"),
        {
            "keyword": "Technical",
            "dimension": "department",
            "value": "__new__",
            "new_value": "Engineering",
            "priority": 0,
            "active": "on",
        },
    )

    text = " ".join(page.content.decode().split())
    assert page.status_code == 200
    assert "<strong>2</strong> existing Contacts (1 distinct title) would change." in text
    assert "Technical Lead" in text and "department: Engineering" in text
    assert not ClassificationRule.objects.exists()  # previewing saves nothing


def test_the_rule_form_offers_the_preview_and_bad_input_is_explained(client, csm_user):
    client.force_login(csm_user)
    form = client.get(reverse("admin:classification_classificationrule_add"))
    assert b"Preview impact" in form.content

    page = client.get(
        reverse("admin:classification_rule_impact"),
        {"keyword": "!!!", "dimension": "department", "value": "IT"},
    )

    assert page.status_code == 200
    assert b"cannot be saved as it is" in page.content


def test_editing_a_saved_rule_previews_the_replacement(client, csm_user, contacts):
    rule, _ = services.rule_create(
        keyword="Marketing", dimension="department", value="Marketing", user=csm_user
    )
    client.force_login(csm_user)

    page = client.get(
        reverse("admin:classification_rule_impact"),
        {
            "keyword": "Marketing",
            "dimension": "department",
            "value": "__new__",
            "new_value": "Growth",
            "priority": 0,
            "active": "on",
            "rule_id": rule.pk,
        },
    )

    text = " ".join(page.content.decode().split())
    assert "<strong>1</strong> existing Contact (1 distinct title) would change." in text


def test_a_rep_cannot_preview(client, rep_user):
    client.force_login(rep_user)

    page = client.get(reverse("admin:classification_rule_impact"), {"keyword": "x"})

    assert page.status_code == 403


def test_the_form_previews_by_post_keeping_the_csrf_token_out_of_the_url(
    client, csm_user, contacts
):
    client.force_login(csm_user)
    form = client.get(reverse("admin:classification_classificationrule_add")).content.decode()
    assert 'formmethod="post"' in form and 'formmethod="get"' not in form

    page = client.post(
        reverse("admin:classification_rule_impact"),
        {
            "keyword": "Technical",
            "dimension": "department",
            "value": "__new__",
            "new_value": "Engineering",
            "priority": 0,
            "active": "on",
        },
    )

    assert page.status_code == 200
    assert "<strong>2</strong> existing Contacts" in " ".join(page.content.decode().split())
    assert not ClassificationRule.objects.exists()
