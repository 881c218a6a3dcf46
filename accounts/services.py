"""Writes to the Salesforce mirror. Each write changes the mirror row and queues the matching
Salesforce write in the outbox, in one transaction (see integrations.sync.outbox for the payload
format). Keyword-only, `<entity>_<action>`.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from integrations.sync.outbox import CREATE_ONLY_KEY, outbox_enqueue, outbox_reference

from .models import Contact, Lead, OpportunityContactRole, new_crmbridge_id

LEAD_SOURCE = "crmbridge"

# mirror field -> Salesforce field, for the attributes crmbridge may update on a Contact.
CONTACT_ATTRIBUTE_FIELDS = {
    "title": "Title",
    "phone": "Phone",
    "department": "Department",
    "seniority": "Seniority__c",
}


def _owner_fields(owner) -> dict:
    return {"OwnerId": owner.sf_id} if owner is not None and owner.sf_id else {}


def _set(payload: dict, key: str, value) -> None:
    if value not in (None, ""):
        payload[key] = value


@transaction.atomic
def contact_create(
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
    """A new Contact on `account`, owned by `owner` (a SalesforceUser), LeadSource crmbridge."""
    contact = Contact.objects.create(
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
    payload = {"LastName": last_name, "Email": email, "LeadSource": LEAD_SOURCE}
    _set(payload, "FirstName", first_name)
    _set(payload, "Title", title)
    _set(payload, "Phone", phone)
    _set(payload, "MailingCountry", country)
    _set(payload, "Department", department)
    _set(payload, "Seniority__c", seniority)
    if account is not None:
        payload["AccountId"] = outbox_reference(account)
    payload.update(_owner_fields(owner))
    outbox_enqueue(
        sobject="Contact", payload=payload, crmbridge_id=contact.crmbridge_id, local=contact
    )
    return contact


@transaction.atomic
def lead_create(
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
    """A new Lead (for organisations that create Leads); `company` is the Account's name."""
    lead = Lead.objects.create(
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
    payload = {"LastName": last_name, "Email": email, "Company": company}
    payload["LeadSource"] = LEAD_SOURCE
    _set(payload, "FirstName", first_name)
    _set(payload, "Title", title)
    _set(payload, "Phone", phone)
    _set(payload, "Country", country)
    _set(payload, "Department", department)
    _set(payload, "Seniority__c", seniority)
    payload.update(_owner_fields(owner))
    outbox_enqueue(sobject="Lead", payload=payload, crmbridge_id=lead.crmbridge_id, local=lead)
    return lead


def _write_target(record) -> dict:
    """outbox_enqueue arguments that address an existing mirror record."""
    if record.sf_id:
        return {"sf_id": record.sf_id, "operation": "update"}
    return {"crmbridge_id": record.crmbridge_id}


@transaction.atomic
def contact_update_attributes(*, contact: Contact, values: dict, activity=None) -> list:
    """Give `contact` the newer, non-empty title/phone/department/seniority in `values`.
    A blank never overwrites a value. Each change is recorded (ContactAttributeChange) and
    queued for Salesforce. Returns the changes made."""
    from activities.models import ContactAttributeChange

    changes = []
    payload = {}
    for field, sf_field in CONTACT_ATTRIBUTE_FIELDS.items():
        new = values.get(field)
        new = new.strip() if isinstance(new, str) else new
        if not new:
            continue
        old = getattr(contact, field)
        if old == new:
            continue
        setattr(contact, field, new)
        payload[sf_field] = new
        changes.append(
            ContactAttributeChange(
                contact=contact, activity=activity, field=field, old_value=old, new_value=new
            )
        )
    if not changes:
        return []
    contact.save(update_fields=[c.field for c in changes] + ["local_modified_at"])
    ContactAttributeChange.objects.bulk_create(changes)
    if contact.sf_id or contact.crmbridge_id:
        outbox_enqueue(sobject="Contact", payload=payload, local=contact, **_write_target(contact))
    return changes


def opportunity_contact_role_create(*, opportunity, contact) -> OpportunityContactRole | None:
    """Add `contact` to `opportunity`'s contact roles (once). Returns the new role, or None when
    the contact already had one."""
    try:
        with transaction.atomic():
            role = OpportunityContactRole.objects.create(
                crmbridge_id=new_crmbridge_id(), opportunity=opportunity, contact=contact
            )
            outbox_enqueue(
                sobject="OpportunityContactRole",
                payload={
                    "OpportunityId": outbox_reference(opportunity),
                    "ContactId": outbox_reference(contact),
                    # Salesforce never updates OpportunityId: a re-sent upsert leaves it out.
                    CREATE_ONLY_KEY: ["OpportunityId"],
                },
                crmbridge_id=role.crmbridge_id,
                local=role,
            )
    except IntegrityError:
        return None
    return role


def _activity_payload(activity, sobject: str, who, what) -> dict:
    payload = {
        "WhoId": outbox_reference(who),
        "Subject": (activity.subject or activity.get_kind_display())[:255],
        "ActivityDate": activity.occurred_at.date().isoformat(),
    }
    if what is not None:
        payload["WhatId"] = outbox_reference(what)
    owner = activity.owner_sf_user
    payload.update(_owner_fields(owner))
    if activity.body:
        payload["Description"] = activity.body[:32000]
    if sobject == "Task":
        payload["Status"] = "Completed"
    else:
        start = activity.occurred_at.astimezone(datetime.UTC)
        payload["StartDateTime"] = start.isoformat().replace("+00:00", "Z")
        payload["EndDateTime"] = payload["StartDateTime"]
    return payload


def activity_log(*, activity, contact: Contact | None = None, lead: Lead | None = None):
    """Log `activity` on one person in Salesforce: a Task for an e-mail or call, an Event for a
    meeting, with WhoId (the person), WhatId (the Opportunity, else the Account; none for a
    Lead), subject, date and owner. Once per activity and person: returns the new ActivityLog, or
    None when it was logged already."""
    from activities.models import ActivityLog

    if (contact is None) == (lead is None):
        raise ValueError("log an activity on exactly one Contact or Lead")
    sobject = "Event" if activity.kind == "meeting" else "Task"
    if lead is not None:
        who, what = lead, None
    else:
        who, what = contact, activity.opportunity or activity.account or contact.account
    try:
        with transaction.atomic():
            log = ActivityLog.objects.create(
                activity=activity,
                sobject=sobject,
                contact=contact,
                lead=lead,
                crmbridge_id=new_crmbridge_id(),
            )
            outbox_enqueue(
                sobject=sobject,
                payload=_activity_payload(activity, sobject, who, what),
                crmbridge_id=log.crmbridge_id,
                local=log,
            )
    except IntegrityError:
        return None
    return log
