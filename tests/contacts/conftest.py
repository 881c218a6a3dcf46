import itertools

import pytest

from activities.services import activity_ingest_many
from crmbridge.models import ConfigurationProfile, GlobalSettings
from tests.factories import AccountFactory, OpportunityFactory

_seq = itertools.count(1)


@pytest.fixture
def org_settings(db):
    settings = GlobalSettings.load()
    settings.internal_domains = ["crmbridge.example"]
    settings.save()
    return settings


@pytest.fixture
def acme(db):
    return AccountFactory(name="Acme", website="acme.com")


@pytest.fixture
def acme_deal(acme, rep_sf):
    return OpportunityFactory(name="Acme renewal", account=acme, owner=rep_sf)


@pytest.fixture
def default_profile(db):
    """default_profile(enabled=False): the default Configuration Profile (a new organisation
    has one), switched on or off."""
    return _default_profile


def _default_profile(*, enabled=True, name="Everyone"):
    profile = ConfigurationProfile.objects.filter(is_default=True).first()
    if profile is None:
        profile = ConfigurationProfile(is_default=True)
    profile.name, profile.contact_creation_enabled = name, enabled
    profile.save()
    return profile


@pytest.fixture
def ingest(rep_user, org_settings):
    """ingest(participants, kind="email", body="", ext="a1", ...) -> the Activity."""

    def run(participants, *, kind="email", body="", ext=None, subject="Hello", owner=None):
        item = {
            "external_id": ext or f"ext-{next(_seq)}",
            "kind": kind,
            "occurred_at": "2026-11-20T10:00:00Z",
            "owner": (owner or rep_user).email,
            "subject": subject,
            "body": body,
            "participants": [{"email": (owner or rep_user).email, "role": "from"}] + participants
            if kind != "email" or not any(p.get("role") == "from" for p in participants)
            else participants + [{"email": (owner or rep_user).email, "role": "to"}],
        }
        result = activity_ingest_many(items=[item])[0]
        assert result.activity is not None, result.errors
        return result.activity

    return run
