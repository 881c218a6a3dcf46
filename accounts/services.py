"""Writes to the Salesforce mirror. Each write changes the mirror row and queues the matching
Salesforce write in the outbox, in one transaction (integrations.outbox.payloads describes the
payload format). Keyword-only, `<entity>_<action>`.
"""

from __future__ import annotations

from django.db import transaction

from crmbridge.bulk import instance_build, objects_insert
from integrations.outbox.models import OutboxItem
from integrations.outbox.payloads import CREATE_ONLY_KEY, outbox_reference, owner_fields
from integrations.outbox.services import (
    outbox_create_once,
    outbox_enqueue,
    outbox_enqueue_many,
    outbox_write_target,
)
from integrations.salesforce.objects import (
    CONTACT,
    CONTACT_ATTRIBUTE_FIELDS,
    LEAD,
    LEAD_SOURCE,
    OPPORTUNITY_CONTACT_ROLE,
)

from .models import Contact, Lead, OpportunityContactRole, new_crmbridge_id

_PERSON_FIELDS = ("first_name", "title", "phone", "country", "department", "seniority")
# What a person may edit on their own Contact (mirror field -> Salesforce field).
CONTACT_EDITABLE_FIELDS = {
    name: CONTACT.sf_field(name)
    for name in ("first_name", "last_name", "email", "title", "phone", "country")
}


def _contact_write(contact: Contact) -> dict:
    payload = CONTACT.to_salesforce(
        {"last_name": contact.last_name, "email": contact.email, "lead_source": LEAD_SOURCE},
        skip_blank=False,
    )
    payload.update(CONTACT.to_salesforce({n: getattr(contact, n) for n in _PERSON_FIELDS}))
    if contact.account is not None:
        payload["AccountId"] = outbox_reference(contact.account)
    payload.update(owner_fields(contact.owner))
    return {
        "sobject": "Contact",
        "payload": payload,
        "crmbridge_id": contact.crmbridge_id,
        "local": contact,
    }


def _lead_write(lead: Lead, department=None, seniority=None) -> dict:
    required = {"last_name": lead.last_name, "email": lead.email, "company": lead.company}
    payload = LEAD.to_salesforce({**required, "lead_source": LEAD_SOURCE}, skip_blank=False)
    optional = {n: getattr(lead, n) for n in ("first_name", "title", "phone", "country")}
    payload.update(
        LEAD.to_salesforce({**optional, "department": department, "seniority": seniority})
    )
    payload.update(owner_fields(lead.owner))
    return {"sobject": "Lead", "payload": payload, "crmbridge_id": lead.crmbridge_id, "local": lead}


def contact_build(
    *,
    first_name: str,
    last_name: str,
    email: str,
    account,
    owner=None,
    title: str = "",
    phone: str = "",
    country: str = "",
    department: str | None = None,
    seniority: str | None = None,
) -> Contact:
    """A new, unsaved Contact crmbridge creates (give it to contacts_create_many)."""
    return instance_build(
        Contact,
        {
            "crmbridge_id": new_crmbridge_id(),
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "title": title,
            "phone": phone,
            "country": country,
            "department": department or None,
            "seniority": seniority or None,
            "lead_source": LEAD_SOURCE,
            "account": account,
            "owner": owner,
            "created_by_crmbridge": True,
        },
    )


@transaction.atomic(savepoint=False)  # a caller that recovers has its own
def contacts_create_many(*, contacts: list[Contact]) -> list[Contact]:
    """Save Contacts made by contact_build and queue them for Salesforce: one insert for the
    Contacts, one for their outbox rows."""
    if not contacts:
        return []
    objects_insert(contacts)
    outbox_enqueue_many(writes=[_contact_write(c) for c in contacts])
    return contacts


def contact_create(**fields) -> Contact:
    """A new Contact on `account`, owned by `owner` (a SalesforceUser), LeadSource crmbridge.
    Keyword arguments as contact_build."""
    return contacts_create_many(contacts=[contact_build(**fields)])[0]


def lead_build(
    *,
    first_name: str,
    last_name: str,
    email: str,
    company: str,
    owner=None,
    title: str = "",
    phone: str = "",
    country: str = "",
    department: str | None = None,
    seniority: str | None = None,
) -> Lead:
    """A new, unsaved Lead crmbridge creates (give it to leads_create_many). Department and
    seniority are sent to Salesforce (the mirror's Lead has no such fields)."""
    lead = instance_build(
        Lead,
        {
            "crmbridge_id": new_crmbridge_id(),
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "company": company,
            "title": title,
            "phone": phone,
            "country": country,
            "owner": owner,
            "created_by_crmbridge": True,
        },
    )
    lead._classified = (department, seniority)
    return lead


@transaction.atomic(savepoint=False)  # a caller that recovers has its own
def leads_create_many(*, leads: list[Lead]) -> list[Lead]:
    """Save Leads made by lead_build and queue them for Salesforce (one insert each)."""
    if not leads:
        return []
    objects_insert(leads)
    outbox_enqueue_many(
        writes=[_lead_write(lead, *getattr(lead, "_classified", (None, None))) for lead in leads]
    )
    return leads


def _contact_apply(contact: Contact, values: dict, fields: dict) -> list[tuple]:
    """Set the non-blank values of `fields` (mirror -> Salesforce name) that differ, save them
    and queue them for Salesforce. A blank never overwrites a value. Returns the changes made
    as (field, old value, new value)."""
    changes = []
    payload = {}
    for field, sf_field in fields.items():
        new = values.get(field)
        new = new.strip() if isinstance(new, str) else new
        if not new:
            continue
        old = getattr(contact, field)
        if old == new:
            continue
        setattr(contact, field, new)
        payload[sf_field] = new
        changes.append((field, old, new))
    if not changes:
        return []
    contact.save(update_fields=[field for field, _, _ in changes] + ["local_modified_at"])
    if contact.sf_id or contact.crmbridge_id:
        outbox_enqueue(
            sobject="Contact", payload=payload, local=contact, **outbox_write_target(contact)
        )
    return changes


@transaction.atomic
def contact_update_attributes(*, contact: Contact, values: dict) -> list[tuple]:
    """Give `contact` the newer, non-empty title/phone/department/seniority in `values`.
    A blank never overwrites a value. The change is queued for Salesforce. Returns the changes
    made as (field, old value, new value)."""
    return _contact_apply(contact, values, CONTACT_ATTRIBUTE_FIELDS)


@transaction.atomic
def contact_update(*, contact: Contact, values: dict) -> list[tuple]:
    """Give `contact` the non-blank name, e-mail, title, phone and country in `values` (a
    person's own edit, e.g. in their address book) and queue them for Salesforce. A blank never
    overwrites a value. Returns the changes made as (field, old value, new value)."""
    return _contact_apply(contact, values, CONTACT_EDITABLE_FIELDS)


def _ocr_write(role: OpportunityContactRole) -> dict:
    return {
        "sobject": "OpportunityContactRole",
        "payload": {
            "OpportunityId": outbox_reference(role.opportunity),
            "ContactId": outbox_reference(role.contact),
            # Salesforce never updates OpportunityId: a re-sent upsert leaves it out.
            CREATE_ONLY_KEY: list(OPPORTUNITY_CONTACT_ROLE.create_only),
        },
        "crmbridge_id": role.crmbridge_id,
        "local": role,
    }


def opportunity_contact_roles_create_many(*, pairs) -> list[OpportunityContactRole]:
    """Add each (opportunity, contact) as a contact role, once; returns the roles made."""
    rows = [
        OpportunityContactRole(crmbridge_id=new_crmbridge_id(), opportunity=o, contact=c)
        for o, c in pairs
    ]
    return outbox_create_once(model=OpportunityContactRole, rows=rows, write=_ocr_write)


@transaction.atomic
def contact_delete(*, contact: Contact, delete_in_salesforce: bool) -> bool:
    """Delete a Contact from the mirror; with `delete_in_salesforce`, Salesforce deletes it too
    (or, never pushed yet, what waits to create it is cancelled). Returns True when a Salesforce
    delete was queued."""
    queued = False
    if delete_in_salesforce and contact.sf_id:
        outbox_enqueue(
            sobject="Contact",
            sf_id=contact.sf_id,
            payload={},
            operation=OutboxItem.Operation.DELETE,
        )
        queued = True
    elif delete_in_salesforce and contact.crmbridge_id:
        OutboxItem.objects.filter(
            crmbridge_id=contact.crmbridge_id, state=OutboxItem.State.PENDING
        ).update(
            state=OutboxItem.State.SENT,
            error_code="CANCELLED",
            last_error="The Contact was deleted in crmbridge before it was pushed.",
        )
    contact.delete()
    return queued
