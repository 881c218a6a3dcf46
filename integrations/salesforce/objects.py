"""One declaration per Salesforce object crmbridge reads or writes: the mirror model, the field
maps both ways, references, create-only fields. The only module that spells Salesforce field
names of the mirror (the dialer's mappings are field names its admins type)."""

from dataclasses import dataclass, field

# crmbridge's own external id on every record it creates; written by upsert on it.
EXTERNAL_ID = "Crmbridge_Id__c"
# LeadSource of the Contacts and Leads crmbridge creates.
LEAD_SOURCE = "crmbridge"
# Fields every pulled query asks for, besides the object's own.
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "SystemModstamp", EXTERNAL_ID)


@dataclass(frozen=True)
class SObject:
    sobject: str
    model: str = ""  # the mirror model ("app_label.Model"); "" when crmbridge only writes it
    fields: dict = field(default_factory=dict)  # Salesforce field -> mirror field (pulled)
    refs: dict = field(default_factory=dict)  # Salesforce field -> (mirror FK field, sobject)
    required_refs: tuple = ()  # FKs without which the mirror row cannot exist
    # mirror-side names of values written but not kept on the mirror row -> Salesforce field
    write_only: dict = field(default_factory=dict)
    create_only: tuple = ()  # fields Salesforce sets on insert and never updates

    @property
    def soql_fields(self) -> list[str]:
        return [*SYSTEM_FIELDS, *self.fields, *self.refs]

    def sf_field(self, name: str) -> str:
        """The Salesforce field of mirror field (or write-only value) `name`."""
        return self._to_sf()[name]

    def to_salesforce(self, values: dict, *, skip_blank: bool = True) -> dict:
        """Mirror-named `values` as a Salesforce payload (blanks left out unless asked)."""
        to_sf = self._to_sf()
        return {to_sf[k]: v for k, v in values.items() if not (skip_blank and v in (None, ""))}

    def _to_sf(self) -> dict:
        return {**{m: s for s, m in self.fields.items()}, **self.write_only}


USER = SObject(
    "User", "accounts.SalesforceUser", {"Name": "name", "Email": "email", "IsActive": "is_active"}
)
ACCOUNT = SObject(
    "Account",
    "accounts.Account",
    {
        "Name": "name",
        "Website": "website",
        "BillingCity": "city",
        "Alternate_Domains__c": "alternate_domains",
    },
    {"OwnerId": ("owner", "User")},
)
CONTACT = SObject(
    "Contact",
    "accounts.Contact",
    {
        "FirstName": "first_name",
        "LastName": "last_name",
        "Email": "email",
        "Title": "title",
        "Phone": "phone",
        "MailingCountry": "country",
        "Department": "department",
        "Seniority__c": "seniority",
        "LeadSource": "lead_source",
    },
    {"AccountId": ("account", "Account"), "OwnerId": ("owner", "User")},
)
LEAD = SObject(
    "Lead",
    "accounts.Lead",
    {
        "FirstName": "first_name",
        "LastName": "last_name",
        "Email": "email",
        "Company": "company",
        "Title": "title",
        "Phone": "phone",
        "Country": "country",
        "Status": "status",
        "IsConverted": "is_converted",
    },
    {"OwnerId": ("owner", "User")},
    write_only={
        "department": "Department",
        "seniority": "Seniority__c",
        "lead_source": "LeadSource",
    },
)
OPPORTUNITY = SObject(
    "Opportunity",
    "accounts.Opportunity",
    {"Name": "name", "StageName": "stage_name", "CloseDate": "close_date", "IsClosed": "is_closed"},
    {"AccountId": ("account", "Account"), "OwnerId": ("owner", "User")},
)
OPPORTUNITY_CONTACT_ROLE = SObject(
    "OpportunityContactRole",
    "accounts.OpportunityContactRole",
    {"Role": "role", "IsPrimary": "is_primary"},
    {"OpportunityId": ("opportunity", "Opportunity"), "ContactId": ("contact", "Contact")},
    required_refs=("opportunity", "contact"),
    create_only=("OpportunityId",),
)

# What the pull mirrors, parents first.
MIRRORED = [USER, ACCOUNT, CONTACT, LEAD, OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE]
BY_NAME = {o.sobject: o for o in MIRRORED}
MIRROR_MODELS = {o.sobject: o.model for o in MIRRORED}
# Objects crmbridge writes to: their pulled values are kept to judge conflicts field by field.
WRITTEN_MIRRORED = frozenset({"Account", "Contact", "Lead"})

# Reference field -> the sobjects it may point at (more than one: polymorphic).
REFERENCE_TARGETS = {
    "AccountId": ("Account",),
    "ContactId": ("Contact",),
    "OpportunityId": ("Opportunity",),
    "OwnerId": ("User",),
    "WhoId": ("Contact", "Lead"),
    "WhatId": ("Account", "Opportunity"),
}
POLYMORPHIC_FIELDS = frozenset(f for f, targets in REFERENCE_TARGETS.items() if len(targets) > 1)

# The Contact fields title classification owns, by dimension.
CLASSIFIED_CONTACT_FIELDS = {
    "department": CONTACT.sf_field("department"),
    "seniority": CONTACT.sf_field("seniority"),
}
# The Contact fields crmbridge may update on an existing Contact from an activity.
CONTACT_ATTRIBUTE_FIELDS = {
    name: CONTACT.sf_field(name) for name in ("title", "phone", "department", "seniority")
}
