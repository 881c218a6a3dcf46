import pytest

from crmbridge.models import GlobalSettings
from tests.factories import SalesforceUserFactory


@pytest.fixture
def org_settings(db):
    settings = GlobalSettings.load()
    settings.internal_domains = ["crmbridge.example", "ourco.com"]
    settings.extra_personal_domains = ["mailinator.com"]
    settings.save()
    return settings


@pytest.fixture
def other_sf(db):
    return SalesforceUserFactory()
