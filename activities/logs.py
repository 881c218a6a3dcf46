"""Activities logged on people in Salesforce: a Task for an e-mail or call, an Event for a
meeting, once per activity and person, queued through the outbox with the ActivityLog row."""

import datetime

from accounts.models import new_crmbridge_id
from crmbridge.bulk import instance_build
from integrations.outbox.payloads import outbox_reference, owner_fields
from integrations.outbox.services import outbox_create_once, outbox_enqueue_many

from .models import ActivityLog


def _activity_log_build(*, activity, contact=None, lead=None):
    if (contact is None) == (lead is None):
        raise ValueError("log an activity on exactly one Contact or Lead")
    sobject = "Event" if activity.kind == "meeting" else "Task"
    return instance_build(
        ActivityLog,
        {
            "activity": activity,
            "sobject": sobject,
            "contact": contact,
            "lead": lead,
            "crmbridge_id": new_crmbridge_id(),
        },
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


def _activity_payload(activity, sobject: str, who, what) -> dict:
    payload = {
        "WhoId": outbox_reference(who),
        "Subject": (activity.subject or activity.get_kind_display())[:255],
        "ActivityDate": activity.occurred_at.date().isoformat(),
    }
    if what is not None:
        payload["WhatId"] = outbox_reference(what)
    payload.update(owner_fields(activity.owner_sf_user))
    if activity.body:
        payload["Description"] = activity.body[:32000]
    if sobject == "Task":
        payload["Status"] = "Completed"
    else:
        start = activity.occurred_at.astimezone(datetime.UTC)
        payload["StartDateTime"] = start.isoformat().replace("+00:00", "Z")
        end = (activity.ends_at or activity.occurred_at).astimezone(datetime.UTC)
        payload["EndDateTime"] = end.isoformat().replace("+00:00", "Z")
    return payload


def activity_logs_create_many(*, entries, new_activities=False) -> list:
    """Log activities on people: `entries` are (activity, contact, lead) with exactly one of
    contact and lead. A Task for an e-mail or call, an Event for a meeting, with WhoId (the
    person), WhatId (the Opportunity, else the Account; none for a Lead), subject, date and
    owner. Once per activity and person: entries already logged are skipped. Returns the
    ActivityLogs made. `new_activities`: the activities were created in this transaction, so
    no other one can be logging them."""
    rows = [_activity_log_build(activity=a, contact=c, lead=ld) for a, c, ld in entries]
    return outbox_create_once(
        model=ActivityLog, rows=rows, write=_activity_log_write, contested=not new_activities
    )


def activity_logs_resend(*, activity) -> int:
    """Queue the Tasks / Events of `activity` again (an upsert on their Crmbridge_Id__c), after
    its time, duration or subject changed. Returns how many were queued."""
    logs = list(activity.logs.select_related("contact__account", "lead"))
    for log in logs:
        log.activity = activity
    if logs:
        outbox_enqueue_many(writes=[_activity_log_write(log) for log in logs])
    return len(logs)
