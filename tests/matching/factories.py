"""Mirror rows for the matching tests, created directly (the pull from Salesforce is not ours)."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from accounts.domain_services import account_domains_refresh
from accounts.models import Account, Contact, Lead, Opportunity, SalesforceUser

_ids = itertools.count(1)


def sf_id(prefix):
    return f"{prefix}{next(_ids):015d}"


class SalesforceUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesforceUser

    sf_id = factory.LazyFunction(lambda: sf_id("005"))
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"sfuser{n}@crmbridge.example")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    sf_id = factory.LazyFunction(lambda: sf_id("001"))
    name = factory.Sequence(lambda n: f"Account {n}")
    website = ""
    sf_created_at = factory.Sequence(
        lambda n: timezone.now() - dt.timedelta(days=1000) + dt.timedelta(minutes=n)
    )

    @factory.post_generation
    def refresh_domains(self, create, extracted, **kwargs):
        if create:
            account_domains_refresh(account=self)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    sf_id = factory.LazyFunction(lambda: sf_id("003"))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    sf_id = factory.LazyFunction(lambda: sf_id("00Q"))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = "Lead Co"


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    sf_id = factory.LazyFunction(lambda: sf_id("006"))
    name = factory.Sequence(lambda n: f"Deal {n}")
    stage_name = "Prospecting"


def activity_item(owner, *, emails, external_id=None, kind="email", days_ago=1, **extra):
    """One incoming activity as the API takes it."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    return {
        "external_id": external_id or f"ext-{next(_ids)}",
        "kind": kind,
        "occurred_at": when.isoformat(),
        "owner": owner.email,
        "subject": extra.pop("subject", "Hello"),
        "participants": [{"email": e, "role": "to"} for e in emails],
        **extra,
    }
