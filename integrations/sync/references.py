"""References to parents in the payloads being pushed: which external ids a batch waits for,
and their Salesforce Ids, from the mirror first, else by one query per object type."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.apps import apps

from integrations.outbox.models import OutboxItem
from integrations.outbox.payloads import REF_KEY
from integrations.salesforce.objects import (
    EXTERNAL_ID,
    MIRROR_MODELS,
    POLYMORPHIC_FIELDS,
    REFERENCE_TARGETS,
)


@dataclass
class Ref:
    key: str  # payload key as written ("Account", "WhoId")
    field: str  # Salesforce reference field ("AccountId", "WhoId")
    ext: str  # the parent's Crmbridge_Id__c
    types: tuple  # sobjects it may be
    polymorphic: bool = False


def _ref_field(key: str) -> str:
    if key.endswith("__r"):
        return key[:-3] + "__c"
    if key.endswith("Id") or key.endswith("__c"):
        return key
    return key + "Id"


def external_refs(payload: dict) -> list[Ref]:
    """References by external id: {"Account": {"Crmbridge_Id__c": "..."}} (optionally with
    {"attributes": {"type": ...}})."""
    out = []
    for key, value in payload.items():
        if not isinstance(value, dict) or key == "attributes" or REF_KEY in value:
            continue
        ext = value.get(EXTERNAL_ID)
        if not ext:
            continue
        ref_field = _ref_field(key)
        given = (value.get("attributes") or {}).get("type")
        types = (given,) if given else REFERENCE_TARGETS.get(ref_field, (key,))
        poly = ref_field in POLYMORPHIC_FIELDS or len(REFERENCE_TARGETS.get(ref_field, ())) > 1
        out.append(Ref(key, ref_field, str(ext), tuple(types), poly))
    return out


def waiting_refs(payload: dict, waiting_for: list[str]) -> list[Ref]:
    """The `outbox_reference` values outbox_payloads_resolve could not resolve (polymorphic)."""
    out = []
    for key, value in payload.items():
        if isinstance(value, dict) and value.get(REF_KEY) in waiting_for:
            types = (value["sobject"],) if value.get("sobject") else REFERENCE_TARGETS.get(key, ())
            out.append(Ref(key, key, str(value.get("crmbridge_id") or ""), tuple(types), True))
    return out


class Resolver:
    """Salesforce Ids of parents named by external id, for one batch, with bounded queries."""

    def __init__(self, client):
        self.client = client
        self.known: dict[tuple[str, str], str] = {}  # (sobject, ext) -> sf_id
        self.outbox_state: dict[str, str] = {}  # ext -> "sent" | "waiting" | "failed"
        self.failed_msg: dict[str, str] = {}

    def load(self, refs: list[Ref]) -> None:
        by_type = defaultdict(set)
        exts = set()
        for r in refs:
            exts.add(r.ext)
            for t in r.types:
                by_type[t].add(r.ext)
        for sobject, values in by_type.items():
            label = MIRROR_MODELS.get(sobject)
            if not label:
                continue
            model = apps.get_model(label)
            rows = model.objects.filter(crmbridge_id__in=values, sf_id__isnull=False).values_list(
                "crmbridge_id", "sf_id"
            )
            for ext, sf_id in rows:
                if sf_id:
                    self.known[(sobject, ext)] = sf_id
        if exts:
            parents = OutboxItem.objects.filter(
                crmbridge_id__in=exts, operation=OutboxItem.Operation.UPSERT
            ).values_list("crmbridge_id", "sobject", "state", "sf_id", "last_error")
            sent, waiting, failed = set(), set(), {}
            for ext, sobject, state, sf_id, err in parents:
                if state == OutboxItem.State.SENT:
                    sent.add(ext)
                    if sf_id:
                        self.known.setdefault((sobject, ext), sf_id)
                elif state == OutboxItem.State.FAILED:
                    failed[ext] = err
                else:
                    waiting.add(ext)
            for ext in exts:
                if ext in sent:
                    self.outbox_state[ext] = "sent"
                elif ext in waiting:
                    self.outbox_state[ext] = "waiting"
                elif ext in failed:
                    self.outbox_state[ext] = "failed"
                    self.failed_msg[ext] = failed[ext]

    def find(self, ref: Ref) -> str | None:
        for t in ref.types:
            if (t, ref.ext) in self.known:
                return self.known[(t, ref.ext)]
        return None

    def ask_salesforce(self, refs: list[Ref]) -> None:
        """One query per sobject type for polymorphic references the mirror could not resolve."""
        by_type = defaultdict(set)
        for r in refs:
            for t in r.types:
                by_type[t].add(r.ext)
        for sobject, values in by_type.items():
            rows = self.client.query_all(
                "SELECT Id, Crmbridge_Id__c FROM {sobject:literal} "
                "WHERE Crmbridge_Id__c IN {values}",
                sobject=sobject,
                values=sorted(values),
            )
            for row in rows:
                self.known[(sobject, row[EXTERNAL_ID])] = row["Id"]
