"""The one fixture world of the suite: factory-boy factories that build realistic rows in a line.

Mirror rows (Account, Contact, Lead, Opportunity, SalesforceUser) default to what a pull from
Salesforce leaves: a Salesforce Id of the right key prefix. `local=True` gives a row only
crmbridge knows (no Salesforce Id). Where the product derives rows through a service (an Account's
domains, a rule's rule-set version, a dialer project's secret), the factory calls that service.
"""

import datetime as dt
import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.domain_services import account_domains_refresh
from accounts.models import Account, AccountDomain, Contact, Lead, Opportunity, SalesforceUser
from activities.models import Activity, Participant
from classification import services as classification_services
from classification.models import ClassificationRule
from crmbridge.models import ConfigurationProfile, ProfileMembership
from integrations.dialer import services as dialer_services
from integrations.dialer.models import DialerProject

PASSWORD = "correct horse battery staple"
FIRST_NAMES = ["Jane", "Omar", "Mei", "Lukas", "Ana", "Kwame", "Sofia", "Ravi"]
LAST_NAMES = ["Doe", "Haddad", "Chen", "Weber", "Silva", "Mensah", "Rossi", "Iyer"]

_ids = itertools.count(1)


def sf_id(prefix):
    """A fresh 18-character Salesforce Id with the object's key prefix ("001" Account...)."""
    return f"{prefix}{next(_ids):015d}"


class UserFactory(factory.django.DjangoModelFactory):
    """A member of staff; `role=ADMIN|CSM|REP` puts them in that role's group."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@crmbridge.example")
    first_name = factory.Iterator(FIRST_NAMES)
    last_name = factory.Iterator(LAST_NAMES)
    is_staff = True
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class MirrorRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    class Params:
        key_prefix = "000"
        local = factory.Trait(sf_id=None)

    sf_id = factory.LazyAttribute(lambda o: sf_id(o.key_prefix))


class SalesforceUserFactory(MirrorRecordFactory):
    """A Salesforce User; pass `user=` to link it to a crmbridge user (same e-mail)."""

    class Meta:
        model = SalesforceUser

    class Params:
        key_prefix = "005"

    name = factory.LazyAttribute(
        lambda o: o.user.get_full_name() if o.user else f"{FIRST_NAMES[0]} {LAST_NAMES[0]}"
    )
    email = factory.LazyAttribute(
        lambda o: o.user.email if o.user else f"sfuser{next(_ids)}@crmbridge.example"
    )
    user = None


class AccountFactory(MirrorRecordFactory):
    """An Account; its Website and alternate domains are indexed as a pull indexes them."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    class Params:
        key_prefix = "001"

    name = factory.Sequence(lambda n: f"Account {n}")
    website = ""
    sf_created_at = factory.Sequence(
        lambda n: timezone.now() - dt.timedelta(days=1000) + dt.timedelta(minutes=n)
    )

    @factory.post_generation
    def refresh_domains(self, create, extracted, **kwargs):
        if create:
            account_domains_refresh(account=self)

    @factory.post_generation
    def admin_domains(self, create, extracted, **kwargs):
        """Domains an admin added by hand (`admin_domains=["acme.io"]`)."""
        for domain in extracted or ():
            AccountDomain.objects.create(account=self, domain=domain)


class ContactFactory(MirrorRecordFactory):
    class Meta:
        model = Contact

    class Params:
        key_prefix = "003"

    first_name = factory.Iterator(FIRST_NAMES)
    last_name = factory.Iterator(LAST_NAMES)
    email = factory.Sequence(lambda n: f"person{n}@example.org")


class LeadFactory(MirrorRecordFactory):
    class Meta:
        model = Lead

    class Params:
        key_prefix = "00Q"

    first_name = factory.Iterator(FIRST_NAMES)
    last_name = factory.Iterator(LAST_NAMES)
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    company = "Lead Co"


class OpportunityFactory(MirrorRecordFactory):
    class Meta:
        model = Opportunity

    class Params:
        key_prefix = "006"

    name = factory.Sequence(lambda n: f"Deal {n}")
    stage_name = "Prospecting"
    account = factory.SubFactory(AccountFactory)


class ActivityFactory(factory.django.DjangoModelFactory):
    """An activity as ingestion stores it; `participants=[contact, ...]` adds one per Contact."""

    class Meta:
        model = Activity
        skip_postgeneration_save = True

    class Params:
        days_ago = 1

    external_id = factory.Sequence(lambda n: f"msg-{n}")
    kind = Activity.Kind.EMAIL
    occurred_at = factory.LazyAttribute(lambda o: timezone.now() - dt.timedelta(days=o.days_ago))
    owner = factory.SubFactory(UserFactory)
    subject = "Hello"

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        for contact in extracted or ():
            ParticipantFactory(activity=self, contact=contact)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    activity = factory.SubFactory(ActivityFactory)
    contact = None
    email = factory.LazyAttribute(
        lambda o: o.contact.email if o.contact else f"guest{next(_ids)}@example.org"
    )


class ConfigurationProfileFactory(factory.django.DjangoModelFactory):
    """A Configuration Profile; `members=[user, ...]` puts the users on it."""

    class Meta:
        model = ConfigurationProfile
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    contact_creation_enabled = True

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        for user in extracted or ():
            ProfileMembership.objects.create(user=user, profile=self)


class ClassificationRuleFactory(factory.django.DjangoModelFactory):
    """A rule created through the service, so the rule-set version moves and a run is queued."""

    class Meta:
        model = ClassificationRule

    keyword = factory.Sequence(lambda n: f"Keyword {n}")
    dimension = "department"
    value = "Engineering"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        rule, _warnings = classification_services.rule_create(**kwargs)
        return rule


class DialerProjectFactory(factory.django.DjangoModelFactory):
    """A dialer project made by the service; its plain secret is on `project.secret`."""

    class Meta:
        model = DialerProject

    name = factory.Sequence(lambda n: f"Outbound {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        project, secret = dialer_services.project_create(**kwargs)
        project.secret = secret
        return project


def activity_item(owner, *, emails, external_id=None, kind="email", days_ago=1, **extra):
    """One incoming activity as the API and ingestion take it."""
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
