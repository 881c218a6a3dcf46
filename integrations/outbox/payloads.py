"""The outbox payload format, agreed between the writers of outbox rows and the pusher
(integrations/sync/push.py), and the one place that builds and resolves references.

* `payload` holds Salesforce field names and plain JSON values, e.g. for a new Contact:
      {"FirstName": "Jane", "LastName": "Doe", "Email": "jane@acme.com",
       "LeadSource": "crmbridge", "OwnerId": "005...", "AccountId": <reference>}
  It never holds Crmbridge_Id__c: the pusher adds it from `OutboxItem.crmbridge_id` for upserts.
* A reference field (AccountId, OwnerId, WhoId, WhatId, ContactId, OpportunityId, ...) holds
  either a Salesforce Id (a string), when the parent's Id was known when the row was written, or a
  REFERENCE made by `outbox_reference(mirror_row)`:
      {"$ref": "accounts.contact:42", "sobject": "Contact", "crmbridge_id": "9f0c..."}
  naming the mirror row of the parent, which may not have been pushed yet.
* The pusher resolves references just before it sends a group of rows, with one call:
      resolved = outbox_payloads_resolve([item.payload for item in items])
  and sends `resolved[i].payload`. Each reference becomes the parent's Salesforce Id when the
  mirror row has one by then (parents are pushed first, by `stage`, and the pusher writes their
  Id back through `local_ref`); otherwise, on an ordinary lookup field, Salesforce's reference by
  external id, e.g. "AccountId" -> {"Account": {"Crmbridge_Id__c": "9f0c..."}}.
  Polymorphic fields (WhoId, WhatId: a Contact or a Lead, an Account or an Opportunity) are never
  sent as external-id references: Salesforce does not accept them on every polymorphic field and
  the emulator resolves them to the first target type only. A row whose polymorphic parent has no
  Id yet comes back with `resolved[i].waiting_for` non-empty (the "$ref" strings): the pusher must
  not send it, and leaves it for a later push (pending, with next_attempt_at), where the parent
  has its Id; after its finite attempts it fails with error_code "PARENT_NOT_PUSHED".
* Create-only fields. Some fields can be set when a record is created but never updated
  (OpportunityContactRole.OpportunityId). An upsert that is sent again after its answer was lost
  becomes an update, and Salesforce rejects it with INVALID_FIELD_FOR_INSERT_UPDATE naming those
  fields. Such payloads list them under "$create_only": {"OpportunityId": ..., "ContactId": ...,
  "$create_only": ["OpportunityId"]}. `outbox_payloads_resolve` removes the key and gives the list
  as `resolved[i].create_only`; when an upsert fails with INVALID_FIELD_FOR_INSERT_UPDATE and every
  field named is in that list, the record exists already: the pusher sends it again without those
  fields (which gives it the record's Id) instead of failing the row.
* Rows whose mirror row is an `activities.ActivityLog` (Task / Event) have `local_ref` like
  "activities.activitylog:7": the pusher writes the Task's / Event's Id to its `sf_id` as for any
  mirror row.
"""

from django.apps import apps

from integrations.salesforce.objects import EXTERNAL_ID, POLYMORPHIC_FIELDS


def local_ref(obj) -> str:
    """ "app_label.model:pk" of a mirror row (where a pushed record's Salesforce Id goes)."""
    return f"{obj._meta.label_lower}:{obj.pk}" if obj is not None else ""


def owner_fields(owner) -> dict:
    """OwnerId of a record owned by the SalesforceUser `owner` (nothing when unknown)."""
    return {"OwnerId": owner.sf_id} if owner is not None and owner.sf_id else {}


REF_KEY = "$ref"
CREATE_ONLY_KEY = "$create_only"


def outbox_reference(obj) -> str | dict:
    """The value of a reference field that points at mirror row `obj` (see PAYLOAD FORMAT)."""
    if getattr(obj, "sf_id", None):
        return obj.sf_id
    if not getattr(obj, "crmbridge_id", None):
        raise ValueError(f"{obj!r} has neither a Salesforce Id nor a crmbridge id")
    return {
        REF_KEY: local_ref(obj),
        "sobject": obj._meta.object_name,
        "crmbridge_id": obj.crmbridge_id,
    }


class ResolvedPayload:
    """A payload ready to send, and the references it still waits for (empty: send it)."""

    __slots__ = ("create_only", "payload", "waiting_for")

    def __init__(self, payload: dict, waiting_for: list[str], create_only=()):
        self.payload = payload
        self.waiting_for = waiting_for
        self.create_only = list(create_only)

    def __repr__(self):
        return f"ResolvedPayload({self.payload!r}, waiting_for={self.waiting_for!r})"


def _is_reference(value) -> bool:
    return isinstance(value, dict) and REF_KEY in value


def outbox_payloads_resolve(payloads: list[dict]) -> list[ResolvedPayload]:
    """Resolve the references in `payloads` (one query per kind of parent, not per row)."""
    wanted: dict[str, set[int]] = {}
    for payload in payloads:
        for value in payload.values():
            if _is_reference(value):
                label, _, pk = value[REF_KEY].partition(":")
                wanted.setdefault(label, set()).add(int(pk))
    known: dict[str, str] = {}
    for label, pks in wanted.items():
        model = apps.get_model(label)
        for pk, sf_id in model.objects.filter(pk__in=pks, sf_id__isnull=False).values_list(
            "pk", "sf_id"
        ):
            if sf_id:
                known[f"{label}:{pk}"] = sf_id
    out = []
    for payload in payloads:
        clean, waiting = {}, []
        for field, value in payload.items():
            if field == CREATE_ONLY_KEY:
                continue
            if not _is_reference(value):
                clean[field] = value
            elif value[REF_KEY] in known:
                clean[field] = known[value[REF_KEY]]
            elif field in POLYMORPHIC_FIELDS or not field.endswith("Id"):
                waiting.append(value[REF_KEY])
            else:
                clean[field.removesuffix("Id")] = {EXTERNAL_ID: value["crmbridge_id"]}
        out.append(ResolvedPayload(clean, waiting, payload.get(CREATE_ONLY_KEY, ())))
    return out
