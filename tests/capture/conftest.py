import itertools

import pytest

from accounts.models import Account, AccountDomain, SalesforceUser
from crmbridge.models import ConfigurationProfile, GlobalSettings
from integrations.capture.models import CaptureSource

_seq = itertools.count(1)


def fake_sf_id(prefix):
    return f"{prefix}{next(_seq):015d}"


@pytest.fixture
def org(db, rep_user):
    """crmbridge.example is the company; Acme (acme.com) an Account; contacts are created."""
    settings = GlobalSettings.load()
    settings.internal_domains = ["crmbridge.example"]
    settings.capture_exclusions = ["lawfirm.example", "hr@acme.com"]
    settings.save()
    profile = ConfigurationProfile.objects.filter(is_default=True).first() or ConfigurationProfile(
        is_default=True
    )
    profile.name, profile.contact_creation_enabled = "Everyone", True
    profile.save()
    SalesforceUser.objects.create(
        sf_id=fake_sf_id("005"), name="Rex Rep", email=rep_user.email, user=rep_user
    )
    acme = Account.objects.create(sf_id=fake_sf_id("001"), name="Acme", website="acme.com")
    AccountDomain.objects.create(account=acme, domain="acme.com", source="website")
    return settings


@pytest.fixture
def imap_source(org, rep_user, dovecot_user):
    return CaptureSource.objects.create(
        kind=CaptureSource.Kind.IMAP,
        owner=rep_user,
        host=dovecot_user.host,
        port=dovecot_user.port,
        security=CaptureSource.Security.NONE,
        username=dovecot_user.username,
        secret=dovecot_user.password,
    )
