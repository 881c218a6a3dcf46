"""Writes to the Salesforce mirror. Each write changes the mirror row and queues the matching
Salesforce write in the outbox, in one transaction (see integrations.sync.outbox for the payload
format). Keyword-only, `<entity>_<action>`.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from integrations.sync.outbox import (
    CREATE_ONLY_KEY,
    outbox_enqueue,
    outbox_enqueue_many,
    outbox_reference,
)

from .models import Contact, Lead, OpportunityContactRole, new_crmbridge_id

LEAD_SOURCE = "crmbridge"

# mirror field -> Salesforce field, for the attributes crmbridge may update on a Contact.
CONTACT_ATTRIBUTE_FIELDS = {
    "title": "Title",
    "phone": "Phone",
    "department": "Department",
    "seniority": "Seniority__c",
}
# mirror field -> Salesforce field, for what a person may edit on their own Contact.
CONTACT_EDITABLE_FIELDS = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "title": "Title",
    "phone": "Phone",
    "country": "MailingCountry",
}


def _owner_fields(owner) -> dict:
    return {"OwnerId": owner.sf_id} if owner is not None and owner.sf_id else {}


def _set(payload: dict, key: str, value) -> None:
    if value not in (None, ""):
        payload[key] = value


def _contact_write(contact: Contact) -> dict:
    payload = {"LastName": contact.last_name, "Email": contact.email, "LeadSource": LEAD_SOURCE}
    _set(payload, "FirstName", contact.first_name)
    _set(payload, "Title", contact.title)
    _set(payload, "Phone", contact.phone)
    _set(payload, "MailingCountry", contact.country)
    _set(payload, "Department", contact.department)
    _set(payload, "Seniority__c", contact.seniority)
    if contact.account is not None:
        payload["AccountId"] = outbox_reference(contact.account)
    payload.update(_owner_fields(contact.owner))
    return {
        "sobject": "Contact",
        "payload": payload,
        "crmbridge_id": contact.crmbridge_id,
        "local": contact,
    }


def _lead_write(lead: Lead, department=None, seniority=None) -> dict:
    payload = {"LastName": lead.last_name, "Email": lead.email, "Company": lead.company}
    payload["LeadSource"] = LEAD_SOURCE
    _set(payload, "FirstName", lead.first_name)
    _set(payload, "Title", lead.title)
    _set(payload, "Phone", lead.phone)
    _set(payload, "Country", lead.country)
    _set(payload, "Department", department)
    _set(payload, "Seniority__c", seniority)
    payload.update(_owner_fields(lead.owner))
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
    return Contact(
        crmbridge_id=new_crmbridge_id(),
        first_name=first_name,
        last_name=last_name,
        email=email,
        title=title,
        phone=phone,
        country=country,
        department=department or None,
        seniority=seniority or None,
        lead_source=LEAD_SOURCE,
        account=account,
        owner=owner,
        created_by_crmbridge=True,
    )


@transaction.atomic
def contacts_create_many(*, contacts: list[Contact]) -> list[Contact]:
    """Save Contacts made by contact_build and queue them for Salesforce: one insert for the
    Contacts, one for their outbox rows."""
    if not contacts:
        return []
    Contact.objects.bulk_create(contacts, batch_size=500)
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
    lead = Lead(
        crmbridge_id=new_crmbridge_id(),
        first_name=first_name,
        last_name=last_name,
        email=email,
        company=company,
        title=title,
        phone=phone,
        country=country,
        owner=owner,
        created_by_crmbridge=True,
    )
    lead._classified = (department, seniority)
    return lead


@transaction.atomic
def leads_create_many(*, leads: list[Lead]) -> list[Lead]:
    """Save Leads made by lead_build and queue them for Salesforce (one insert each)."""
    if not leads:
        return []
    Lead.objects.bulk_create(leads, batch_size=500)
    outbox_enqueue_many(
        writes=[_lead_write(lead, *getattr(lead, "_classified", (None, None))) for lead in leads]
    )
    return leads


def lead_create(**fields) -> Lead:
    """A new Lead (for organisations that create Leads); `company` is the Account's name.
    Keyword arguments as lead_build."""
    return leads_create_many(leads=[lead_build(**fields)])[0]


def _write_target(record) -> dict:
    """outbox_enqueue arguments that address an existing mirror record."""
    if record.sf_id:
        return {"sf_id": record.sf_id, "operation": "update"}
    return {"crmbridge_id": record.crmbridge_id}


def _contact_apply(contact: Contact, values: dict, fields: dict) -> dict:
    """Set the non-blank values of `fields` (mirror -> Salesforce name) that differ, save them
    and queue them for Salesforce. A blank never overwrites a value. Returns {field: old}."""
    old_values, payload = {}, {}
    for field, sf_field in fields.items():
        new = values.get(field)
        new = new.strip() if isinstance(new, str) else new
        if not new or getattr(contact, field) == new:
            continue
        old_values[field] = getattr(contact, field)
        setattr(contact, field, new)
        payload[sf_field] = new
    if not payload:
        return {}
    contact.save(update_fields=[*old_values, "local_modified_at"])
    if contact.sf_id or contact.crmbridge_id:
        outbox_enqueue(sobject="Contact", payload=payload, local=contact, **_write_target(contact))
    return old_values


@transaction.atomic
def contact_update_attributes(*, contact: Contact, values: dict, activity=None) -> list:
    """Give `contact` the newer, non-empty title/phone/department/seniority in `values`.
    A blank never overwrites a value. Each change is recorded (ContactAttributeChange) and
    queued for Salesforce. Returns the changes made."""
    from activities.models import ContactAttributeChange

    old_values = _contact_apply(contact, values, CONTACT_ATTRIBUTE_FIELDS)
    changes = [
        ContactAttributeChange(
            contact=contact,
            activity=activity,
            field=field,
            old_value=old,
            new_value=getattr(contact, field),
        )
        for field, old in old_values.items()
    ]
    ContactAttributeChange.objects.bulk_create(changes)
    return changes


@transaction.atomic
def contact_update(*, contact: Contact, values: dict) -> dict:
    """Give `contact` the non-blank name, e-mail, title, phone and country in `values` (a
    person's own edit, e.g. in their address book) and queue them for Salesforce. A blank never
    overwrites a value. Returns {field: old value} of what changed."""
    return _contact_apply(contact, values, CONTACT_EDITABLE_FIELDS)


def contact_mark_deleted(*, contact: Contact) -> None:
    """Mark the mirror row deleted (its deletion in Salesforce is queued by the caller)."""
    Contact.objects.filter(pk=contact.pk).update(is_deleted=True)
    contact.is_deleted = True


def _ocr_write(role: OpportunityContactRole) -> dict:
    return {
        "sobject": "OpportunityContactRole",
        "payload": {
            "OpportunityId": outbox_reference(role.opportunity),
            "ContactId": outbox_reference(role.contact),
            # Salesforce never updates OpportunityId: a re-sent upsert leaves it out.
            CREATE_ONLY_KEY: ["OpportunityId"],
        },
        "crmbridge_id": role.crmbridge_id,
        "local": role,
    }


def _activity_log_build(*, activity, contact=None, lead=None):
    from activities.models import ActivityLog

    if (contact is None) == (lead is None):
        raise ValueError("log an activity on exactly one Contact or Lead")
    sobject = "Event" if activity.kind == "meeting" else "Task"
    return ActivityLog(
        activity=activity,
        sobject=sobject,
        contact=contact,
        lead=lead,
        crmbridge_id=new_crmbridge_id(),
    )


def _activity_log_write(log) -> dict:
    activity = log.activity
    if log.lead is not None:
        who, what = log.lead, None
    else:
        who = log.contact
        what = activity.opportunity or activity.account or log.contact.account
    return {
        "sobject": log.sobject,
        "payload": _activity_payload(activity, log.sobject, who, what),
        "crmbridge_id": log.crmbridge_id,
        "local": log,
    }


def _create_many_once(model, rows, write, one_by_one) -> list:
    """bulk_create `rows` and their outbox rows; if another transaction got one of them first
    (a unique constraint), fall back to one savepoint per row and skip the duplicates."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            model.objects.bulk_create(rows, batch_size=500)
            outbox_enqueue_many(writes=[write(r) for r in rows])
        return rows
    except IntegrityError:
        for row in rows:
            row.pk = None
            row._state.adding = True
        return [r for r in (one_by_one(r) for r in rows) if r is not None]


def _save_once(row, write):
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            outbox_enqueue(**write(row))
    except IntegrityError:
        return None
    return row


def opportunity_contact_roles_create_many(*, pairs) -> list[OpportunityContactRole]:
    """Add each (opportunity, contact) as a contact role, once; returns the roles made."""
    rows = [
        OpportunityContactRole(crmbridge_id=new_crmbridge_id(), opportunity=o, contact=c)
        for o, c in pairs
    ]
    return _create_many_once(
        OpportunityContactRole, rows, _ocr_write, lambda r: _save_once(r, _ocr_write)
    )


def opportunity_contact_role_create(*, opportunity, contact) -> OpportunityContactRole | None:
    """Add `contact` to `opportunity`'s contact roles (once). Returns the new role, or None when
    the contact already had one."""
    made = opportunity_contact_roles_create_many(pairs=[(opportunity, contact)])
    return made[0] if made else None


def _activity_payload(activity, sobject: str, who, what) -> dict:
    payload = {
        "WhoId": outbox_reference(who),
        "Subject": (activity.subject or activity.get_kind_display())[:255],
        "ActivityDate": activity.occurred_at.date().isoformat(),
    }
    if what is not None:
        payload["WhatId"] = outbox_reference(what)
    payload.update(_owner_fields(activity.owner_sf_user))
    if activity.body:
        payload["Description"] = activity.body[:32000]
    if sobject == "Task":
        payload["Status"] = "Completed"
    else:
        start = activity.occurred_at.astimezone(datetime.UTC)
        payload["StartDateTime"] = start.isoformat().replace("+00:00", "Z")
        payload["EndDateTime"] = payload["StartDateTime"]
    return payload


def activity_logs_create_many(*, entries) -> list:
    """Log activities on people: `entries` are (activity, contact, lead) with exactly one of
    contact and lead. A Task for an e-mail or call, an Event for a meeting, with WhoId (the
    person), WhatId (the Opportunity, else the Account; none for a Lead), subject, date and
    owner. Once per activity and person: entries already logged are skipped. Returns the
    ActivityLogs made."""
    from activities.models import ActivityLog

    rows = [_activity_log_build(activity=a, contact=c, lead=ld) for a, c, ld in entries]
    return _create_many_once(
        ActivityLog, rows, _activity_log_write, lambda r: _save_once(r, _activity_log_write)
    )


def activity_log(*, activity, contact: Contact | None = None, lead: Lead | None = None):
    """Log `activity` on one person (see activity_logs_create_many). Returns the new
    ActivityLog, or None when it was logged already."""
    made = activity_logs_create_many(entries=[(activity, contact, lead)])
    return made[0] if made else None
