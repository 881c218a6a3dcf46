"""The Salesforce mirror: what crmbridge knows of the org, keyed by Salesforce Id.

Rows pulled from Salesforce carry `sf_id`. Rows crmbridge creates get a `crmbridge_id` at once
(written to Salesforce's `Crmbridge_Id__c` external-id field and upserted on it) and their `sf_id`
when the outbox has pushed them. Relations between mirror rows are ordinary foreign keys.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords


def new_crmbridge_id():
    # 128 random bits in 32 hex digits, as uuid4().hex gives (122), without building a UUID
    # object each time: ingestion makes thousands a minute.
    return secrets.token_hex(16)


class MirrorRecord(models.Model):
    """Fields every mirrored Salesforce record has.

    Unique and indexed columns are declared in Meta (UniqueConstraint, Index), not with
    `unique=True` / `db_index=True`: on PostgreSQL those also build a `_like` copy of the index
    (varchar_pattern_ops, for LIKE 'prefix%'), which no lookup of crmbridge uses and every row a
    pull writes pays for. A subclass's Meta extends `MirrorRecord.Meta`."""

    sf_id = models.CharField("Salesforce Id", max_length=18, null=True, blank=True)
    crmbridge_id = models.CharField(
        max_length=32,
        null=True,
        blank=True,
        help_text="crmbridge's external id (Crmbridge_Id__c) for records crmbridge created.",
    )
    sf_created_at = models.DateTimeField(null=True, blank=True)
    sf_modstamp = models.DateTimeField(
        "SystemModstamp", null=True, blank=True, help_text="Last change in Salesforce."
    )
    is_deleted = models.BooleanField(default=False, help_text="Deleted in Salesforce.")
    local_modified_at = models.DateTimeField(
        auto_now=True, help_text="Last change of this mirror row (pull or local edit)."
    )

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["sf_id"], name="%(app_label)s_%(class)s_sf_id_key"),
            models.UniqueConstraint(
                fields=["crmbridge_id"], name="%(app_label)s_%(class)s_crmbridge_id_key"
            ),
        ]


class SalesforceUser(MirrorRecord):
    name = models.CharField(max_length=121, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    is_active = models.BooleanField(default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="salesforce_user",
        help_text="The crmbridge user with the same e-mail.",
    )

    class Meta(MirrorRecord.Meta):
        verbose_name = "Salesforce user"
        indexes = [models.Index(fields=["email"], name="salesforceuser_email_idx")]

    def __str__(self):
        return self.name or self.email


class Account(MirrorRecord):
    name = models.CharField(max_length=255)
    website = models.CharField(max_length=255, blank=True)
    city = models.CharField("billing city", max_length=40, blank=True)
    alternate_domains = models.TextField(
        blank=True,
        help_text="Alternate_Domains__c as Salesforce has it (comma or space separated).",
    )
    owner = models.ForeignKey(
        SalesforceUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )

    class Meta(MirrorRecord.Meta):
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="account_name_idx")]

    def __str__(self):
        return self.name


class AccountDomain(models.Model):
    """One e-mail domain of an Account: from its Website, its alternate domains, or an admin."""

    class Source(models.TextChoices):
        WEBSITE = "website", "Website"
        ALTERNATE = "alternate", "Alternate domain (Salesforce)"
        ADMIN = "admin", "Added in crmbridge"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Who added or removed a domain (the audit trail); the sync's bulk writes leave no rows.
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "domain"], name="account_domain_unique"),
        ]

    def __str__(self):
        return self.domain


class Contact(MirrorRecord):
    first_name = models.CharField(max_length=40, blank=True)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(max_length=254, blank=True)
    title = models.CharField(max_length=128, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField("mailing country", max_length=80, blank=True)
    department = models.CharField(max_length=80, blank=True, null=True)
    seniority = models.CharField(max_length=80, blank=True, null=True)
    lead_source = models.CharField(max_length=40, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    owner = models.ForeignKey(
        SalesforceUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    created_by_crmbridge = models.BooleanField(default=False)

    class Meta(MirrorRecord.Meta):
        indexes = [
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["title"], name="contact_title_idx"),
            # Matching looks Contacts up by exact e-mail, whatever its case.
            models.Index(Lower("email"), name="contact_email_lower_idx"),
        ]

    def __str__(self):
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.email


class Lead(MirrorRecord):
    first_name = models.CharField(max_length=40, blank=True)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(max_length=254, blank=True)
    company = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=128, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=80, blank=True)
    is_converted = models.BooleanField(default=False)
    owner = models.ForeignKey(
        SalesforceUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    created_by_crmbridge = models.BooleanField(default=False)

    class Meta(MirrorRecord.Meta):
        indexes = [
            models.Index(fields=["email"], name="lead_email_idx"),
            models.Index(Lower("email"), name="lead_email_lower_idx"),
        ]

    def __str__(self):
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.email


class Opportunity(MirrorRecord):
    name = models.CharField(max_length=120)
    stage_name = models.CharField(max_length=40, blank=True)
    close_date = models.DateField(null=True, blank=True)
    is_closed = models.BooleanField(default=False)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    owner = models.ForeignKey(
        SalesforceUser,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )

    class Meta(MirrorRecord.Meta):
        verbose_name_plural = "opportunities"

    def __str__(self):
        return self.name


class OpportunityContactRole(MirrorRecord):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="contact_roles"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opportunity_roles")
    role = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta(MirrorRecord.Meta):
        constraints = [
            *MirrorRecord.Meta.constraints,
            models.UniqueConstraint(fields=["opportunity", "contact"], name="ocr_unique"),
        ]

    def __str__(self):
        return f"{self.contact} on {self.opportunity}"


class OrphanContact(Contact):
    """Contacts without an Account, as the admin's orphans list sees them."""

    class Meta:
        proxy = True
        verbose_name = "orphan contact"
