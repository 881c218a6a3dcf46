"""A public suffix (or a wildcard over one) is never an Account's domain: every company under
it would match that Account."""

import pytest

from crmbridge.roles import ADMIN
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("domain", ["*.com", "com", "co.uk", "*.co.uk", "%.com", "_.com"])
def test_a_public_suffix_is_refused_as_an_account_domain(api_as, role_users, domain):
    account = AccountFactory(name="Acme")

    response = api_as(role_users[ADMIN]).post(
        "/api/v1/account-domains/", {"account": account.sf_id, "domain": domain}, format="json"
    )

    assert response.status_code == 400, (domain, response.content[:200])
    assert "domain" in response.json()


def test_a_real_domain_is_still_accepted(api_as, role_users):
    account = AccountFactory(name="Acme")

    response = api_as(role_users[ADMIN]).post(
        "/api/v1/account-domains/", {"account": account.sf_id, "domain": "acme-labs.co.uk"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.content[:200]
