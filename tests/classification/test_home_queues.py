"""The CSM's home page shows each dimension's queue of unclassified titles."""

import pytest
from django.urls import reverse

from accounts.models import Contact
from tests.factories import sf_id as fake_sf_id

pytestmark = pytest.mark.django_db


def contact(title, **values):
    return Contact.objects.create(
        sf_id=fake_sf_id("003"), last_name="Roe", email=f"{fake_sf_id('x')}@acme.com",
        title=title, **values,
    )  # fmt: skip


def test_the_home_page_lists_the_queue_of_each_dimension(client, csm_user):
    for _ in range(3):
        contact("Growth Hacker", seniority="Individual Contributor")
    contact("Head of Growth", department="Marketing")
    contact("Wizard")
    client.force_login(csm_user)

    items = client.get(reverse("admin:index")).context["attention_items"]

    titles = {item.title: item for item in items}
    department = titles["Contact titles without a department"]
    seniority = titles["Contact titles without a seniority"]
    assert department.count == 2 and "4 contacts" in department.detail
    assert seniority.count == 2 and "2 contacts" in seniority.detail
    assert department.url.endswith("?dimension=department")
