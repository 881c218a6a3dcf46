"""The mirror's unique and indexed columns: declared in Meta, so that PostgreSQL keeps no `_like`
(varchar_pattern_ops) copy of their indexes; uniqueness and the lookups the product makes are
as they were."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower

from accounts.models import (
    Account,
    Contact,
    Lead,
    Opportunity,
    OpportunityContactRole,
    SalesforceUser,
)
from accounts.selectors import contacts_by_email
from integrations.sync.models import PulledValues
from tests.factories import AccountFactory, ContactFactory
from tests.test_write_indexes import WRITTEN_ON_INGEST

pytestmark = pytest.mark.django_db

MIRROR = [SalesforceUser, Account, Contact, Lead, Opportunity, OpportunityContactRole]


def constraints_of(model) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, model._meta.db_table)


@pytest.mark.parametrize("model", [*MIRROR, PulledValues], ids=lambda m: m.__name__)
def test_the_database_has_every_constraint_and_index_the_model_declares(model):
    found = constraints_of(model)
    for constraint in model._meta.constraints:
        assert constraint.name in found, constraint.name
    for index in model._meta.indexes:
        assert index.name in found, index.name
    assert {"sf_id"} <= {f for c in model._meta.total_unique_constraints for f in c.fields}


@pytest.mark.parametrize(
    "model", [*MIRROR, PulledValues, *WRITTEN_ON_INGEST], ids=lambda m: m.__name__
)
def test_no_pattern_ops_copy_of_an_index_on_postgresql(model):
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL has varchar_pattern_ops copies")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [model._meta.db_table, "%pattern_ops%"],
        )
        assert cursor.fetchall() == []


def test_salesforce_ids_and_crmbridge_ids_stay_unique():
    contact = ContactFactory(crmbridge_id="c" * 32)
    for values in ({"sf_id": contact.sf_id}, {"crmbridge_id": contact.crmbridge_id}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Contact.objects.create(last_name="Twin", **values)
    PulledValues.objects.create(sobject="Contact", sf_id=contact.sf_id, values={})
    with pytest.raises(IntegrityError), transaction.atomic():
        PulledValues.objects.create(sobject="Contact", sf_id=contact.sf_id, values={})
    # Two Contacts crmbridge created and not pushed yet: neither has a Salesforce Id.
    Contact.objects.create(last_name="New", sf_id=None)
    Contact.objects.create(last_name="Newer", sf_id=None)


def test_a_form_still_says_the_salesforce_id_is_taken():
    """The admin validates the model: the message is the one unique=True gave."""
    contact = ContactFactory()
    twin = Contact(last_name="Twin", sf_id=contact.sf_id)
    with pytest.raises(ValidationError) as caught:
        twin.full_clean()
    assert caught.value.message_dict == {
        "sf_id": ["Contact with this Salesforce Id already exists."]
    }


def test_the_product_s_lookups_find_the_same_rows():
    account = AccountFactory(name="Acme")
    jane = ContactFactory(email="Jane@Acme.com", account=account, crmbridge_id="j" * 32)
    ContactFactory(email="bob@acme.com", account=account)
    assert Contact.objects.get(sf_id=jane.sf_id) == jane
    assert list(Contact.objects.filter(crmbridge_id__in=["j" * 32])) == [jane]
    assert [c.pk for c in contacts_by_email(emails=["jane@acme.com"])["jane@acme.com"]] == [jane.pk]


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: say what it could use
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        (lambda: Contact.objects.filter(sf_id__in=["003A", "003B"]), "accounts_contact_sf_id_key"),
        (
            lambda: Contact.objects.filter(crmbridge_id__in=["a" * 32]),
            "accounts_contact_crmbridge_id_key",
        ),
        (lambda: Contact.objects.filter(sf_id="003A"), "accounts_contact_sf_id_key"),
        (lambda: Account.objects.filter(sf_id__in=["001A"]), "accounts_account_sf_id_key"),
        (lambda: PulledValues.objects.filter(sf_id__in=["003A"]), "sync_pulledvalues_sf_id_key"),
        (
            lambda: Contact.objects.annotate(e=Lower("email")).filter(e__in=["a@b.com"]),
            "contact_email_lower_idx",
        ),
        (lambda: Contact.objects.order_by("email")[:100], "contact_email_idx"),
        (lambda: Account.objects.all()[:100], "account_name_idx"),
    ],
    ids=[
        "contact sf_id in",
        "contact crmbridge_id in",
        "contact sf_id",
        "account sf_id in",
        "pulled values sf_id in",
        "contacts by lower e-mail (matching)",
        "contacts by email (admin sort)",
        "accounts by name",
    ],
)
def test_the_lookups_the_product_makes_use_an_index_on_postgresql(lookup, index):
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN's words are PostgreSQL's")
    AccountFactory()
    with transaction.atomic():
        assert index in plan(lookup())
