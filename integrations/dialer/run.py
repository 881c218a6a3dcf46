"""One call result, written to Salesforce in real time as its integration's action says.

The action table (PRODUCT.md, "Dialer result-code integrations"):

=================================  ===========================  =======================  =========
action                             one match                    no match                 several
=================================  ===========================  =======================  =========
update_only                        update it                    fail                     fail
update_or_create_lead              update it                    create a Lead            fail
update_or_create_contact           update it                    create a Contact (+      fail
                                                                Account, Opportunity)
update_convert_or_create_contact   Lead: update, convert,       create a Contact (+      fail
                                   apply Contact mapping;       Account, Opportunity)
                                   Contact: update
=================================  ===========================  =======================  =========

Matching: ``record.salesforce_id`` first (Lead ``00Q`` / Contact ``003``), else one query per
object where every secondary key matches. Every record created carries a ``Crmbridge_Id__c``
derived from the run and is written by upsert on it, so a retry never creates a duplicate. All
reads (matching, Account and Opportunity lookups, mandatory-field checks) happen before the first
write, so a run that fails for a reason crmbridge can see writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from accounts.selectors import account_for_person
from crmbridge.models import GlobalSettings
from integrations.salesforce import SalesforceClient
from integrations.salesforce.objects import EXTERNAL_ID

from .models import Action, CallRun, Integration

PREFIXES = {"00Q": "Lead", "003": "Contact"}
_ID_RE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
CREATES = {
    Action.UPDATE_OR_CREATE_LEAD: "Lead",
    Action.UPDATE_OR_CREATE_CONTACT: "Contact",
    Action.UPDATE_CONVERT_OR_CREATE_CONTACT: "Contact",
}


class RunFailed(Exception):
    """The run cannot do what its integration says; ``fix`` tells the admin what to change."""

    def __init__(self, message: str, *, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass
class Match:
    sobject: str
    id: str
    row: dict = field(default_factory=dict)


def mandatory_gaps(client: SalesforceClient, sobject: str, mapped: dict, values: dict):
    """(not mapped, mapped but empty) mandatory fields of `sobject` for a create."""
    mandatory = [f for f in client.mandatory_fields(sobject) if f != EXTERNAL_ID]
    mapped_lower = {k.lower() for k in mapped}
    values_lower = {k.lower() for k in values}
    unmapped = [f for f in mandatory if f.lower() not in mapped_lower]
    empty = [f for f in mandatory if f.lower() in mapped_lower and f.lower() not in values_lower]
    return unmapped, empty


def objects_created(integration: Integration) -> list[str]:
    """The objects the integration's create path may create (for save-time warnings)."""
    creates = CREATES.get(integration.action)
    if creates is None:
        return []
    if creates == "Lead":
        return ["Lead"]
    mapped = {m.sobject for m in integration.field_mappings.all()}
    return ["Contact"] + [o for o in ("Account", "Opportunity") if o in mapped]


class Runner:
    def __init__(self, *, run: CallRun, integration: Integration, client: SalesforceClient):
        self.run = run
        self.integration = integration
        self.action = integration.action
        self.client = client
        self.record = run.payload if isinstance(run.payload, dict) else {}
        self.mappings: dict[str, list[tuple[str, str]]] = {}
        for m in integration.field_mappings.all():
            self.mappings.setdefault(m.sobject, []).append((m.dialer_field, m.salesforce_field))
        self.keys = [(k.dialer_field, k.salesforce_field) for k in integration.secondary_keys.all()]
        self.touched: list[dict] = []
        self.notes: list[str] = []
        self.created_before = {
            r.get("object")
            for r in (run.salesforce_records or [])
            if r.get("operation") == "created"
        }

    def lock_name(self) -> str:
        """Runs that may create the same person share this name: the integration and the
        secondary-key values the run matches on."""
        values = [str(self._value(df) or "").strip().casefold() for df, _ in self.keys]
        return f"dialer-run:{self.integration.pk}:" + "\x1f".join(values)

    # -- values -----------------------------------------------------------------------------
    def _value(self, dialer_field: str):
        value = self.record.get(dialer_field)
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "") else value

    def mapped(self, sobject: str) -> dict:
        """{Salesforce field: dialer field} mapped for the object."""
        return {sf: df for df, sf in self.mappings.get(sobject, [])}

    def values(self, sobject: str) -> dict:
        """{Salesforce field: value} of the object's mappings that the call has a value for."""
        out = {}
        for df, sf in self.mappings.get(sobject, []):
            value = self._value(df)
            if value is not None:
                out[sf] = value
        return out

    def _touch(self, sobject: str, record_id: str, operation: str) -> None:
        self.touched.append({"object": sobject, "id": record_id, "operation": operation})

    def _check_create(self, sobject: str, values: dict) -> None:
        unmapped, empty = mandatory_gaps(self.client, sobject, self.mapped(sobject), values)
        if unmapped or empty:
            parts = []
            if unmapped:
                parts.append(f"not mapped: {', '.join(unmapped)}")
            if empty:
                parts.append(f"empty in this call: {', '.join(empty)}")
            raise RunFailed(
                f"Cannot create the {sobject}: Salesforce requires fields that are "
                + "; ".join(parts)
                + ".",
                fix=(
                    f"Map every mandatory {sobject} field in integration "
                    f"'{self.integration.name}' (and make sure the dialer sends a value), then "
                    "retry the run."
                ),
            )

    # -- matching ---------------------------------------------------------------------------
    def find(self) -> list[Match]:
        sid = self._value("salesforce_id")
        if sid is not None:
            sid = str(sid)
            sobject = PREFIXES.get(sid[:3])
            if sobject and _ID_RE.match(sid):
                found = self._by_id(sobject, sid)
                if found:
                    return found
                self.notes.append(f"record.salesforce_id {sid} is not in Salesforce")
            else:
                self.notes.append(f"record.salesforce_id {sid} is not a Lead or Contact Id")
        return self._by_keys()

    def _by_id(self, sobject: str, sid: str) -> list[Match]:
        if sobject == "Lead":
            rows = self.client.query_all(
                "SELECT Id, IsConverted, ConvertedContactId, ConvertedAccountId, Company, Email "
                "FROM Lead WHERE Id = {sid}",
                sid=sid,
            )
        else:
            rows = self.client.query_all("SELECT Id FROM Contact WHERE Id = {sid}", sid=sid)
        return [Match(sobject, r["Id"], r) for r in rows]

    def _by_keys(self) -> list[Match]:
        if not self.keys:
            self.notes.append("no secondary keys configured")
            return []
        conditions = []
        for df, sf in self.keys:
            value = self._value(df)
            if value is None:
                raise RunFailed(
                    f"The call has no value for secondary key '{df}' (Salesforce {sf}), so it "
                    "cannot be matched.",
                    fix=f"Have the dialer send '{df}', or send record.salesforce_id.",
                )
            conditions.append((sf, value))
        matches: list[Match] = []
        searched = 0
        for sobject in ("Lead", "Contact"):
            names = {f["name"].lower() for f in self.client.describe(sobject)["fields"]}
            if not all(sf.lower() in names for sf, _ in conditions):
                continue
            searched += 1
            params = {f"k{i}": value for i, (_, value) in enumerate(conditions)}
            where = " AND ".join(f"{sf} = {{k{i}}}" for i, (sf, _) in enumerate(conditions))
            select = "Id"
            if sobject == "Lead":
                where += " AND IsConverted = false"
                select = "Id, IsConverted, ConvertedContactId, ConvertedAccountId, Company, Email"
            # Field names are validated API names (models.sf_field_name); values go through
            # format_soql as parameters.
            soql = f"SELECT {select} FROM {sobject} WHERE {where} LIMIT 2"  # noqa: S608
            rows = self.client.query_all(soql, **params)
            matches.extend(Match(sobject, r["Id"], r) for r in rows)
            if len(matches) > 1:
                break
        if not searched:
            fields = ", ".join(sf for _, sf in self.keys)
            raise RunFailed(
                f"The secondary keys ({fields}) are not fields of Lead or Contact.",
                fix="Use Salesforce field names that exist on Lead and/or Contact.",
            )
        return matches

    # -- the action -------------------------------------------------------------------------
    def execute(self) -> str:
        creates = CREATES.get(self.action)
        if creates and creates in self.created_before:
            # An earlier attempt of this run created the record: finish that path (upserts on
            # the run's external ids make it idempotent).
            return self._create(creates)
        matches = self.find()
        if len(matches) > 1:
            listed = ", ".join(f"{m.sobject} {m.id}" for m in matches)
            raise RunFailed(
                f"More than one Salesforce record matches this call ({listed}); nothing was "
                "written.",
                fix="Merge the duplicates in Salesforce, or add secondary keys that tell them "
                "apart, then retry the run.",
            )
        if not matches:
            if creates is None:
                raise RunFailed(
                    "No Lead or Contact in Salesforce matches this call, and the action is "
                    "'Update only'.",
                    fix="Send record.salesforce_id or secondary-key values that identify an "
                    "existing Lead or Contact, or choose an action that creates a record.",
                )
            return self._create(creates)
        match = matches[0]
        if match.sobject == "Lead" and match.row.get("IsConverted"):
            return self._converted_lead(match)
        if match.sobject == "Lead" and self.action == Action.UPDATE_CONVERT_OR_CREATE_CONTACT:
            return self._convert(match)
        return self._update(match)

    def _update(self, match: Match) -> str:
        values = self.values(match.sobject)
        if values:
            self.client.update(match.sobject, match.id, values)
            self._touch(match.sobject, match.id, "updated")
            return f"Updated {match.sobject} {match.id}."
        self._touch(match.sobject, match.id, "matched")
        return f"Matched {match.sobject} {match.id}; no mapped value to update."

    def _converted_lead(self, match: Match) -> str:
        contact_id = match.row.get("ConvertedContactId")
        if self.action == Action.UPDATE_CONVERT_OR_CREATE_CONTACT and contact_id:
            # Converted earlier (by an earlier attempt of this run, or in Salesforce): finish.
            return self._after_conversion(match.id, contact_id, match.row.get("ConvertedAccountId"))
        if contact_id:
            self.notes.append(f"Lead {match.id} was converted; its Contact is updated instead")
            return self._update(Match("Contact", contact_id))
        raise RunFailed(
            f"Lead {match.id} is converted and has no Contact to update.",
            fix="Send the Contact's Id in record.salesforce_id.",
        )

    # -- create -----------------------------------------------------------------------------
    def _create(self, sobject: str) -> str:
        if sobject == "Lead":
            values = self.values("Lead")
            self._check_create("Lead", values)
            discarded = [o for o in ("Account", "Opportunity") if self.values(o)]
            res = self.client.upsert("Lead", EXTERNAL_ID, self.run.external_id("Lead"), values)
            self._touch("Lead", res["id"], "created")
            if discarded:
                self.notes.append(
                    f"{' and '.join(discarded)} data discarded (a Lead has no Account or "
                    "Opportunity)"
                )
            return f"Created Lead {res['id']}."
        return self._create_contact()

    def _create_contact(self) -> str:
        contact = self.values("Contact")
        self._check_create("Contact", contact)
        account_id, account_plan = self._plan_account(contact)
        opp_plan = self._plan_opportunity(account_id, account_plan)
        # Writes, parents first.
        if account_plan == "create":
            res = self.client.upsert(
                "Account", EXTERNAL_ID, self.run.external_id("Account"), self.values("Account")
            )
            account_id = res["id"]
            self._touch("Account", account_id, "created")
        elif account_plan == "update":
            self.client.update("Account", account_id, self._account_updates())
            self._touch("Account", account_id, "updated")
        elif account_id:
            self._touch("Account", account_id, "linked")
        if account_id:
            contact["AccountId"] = account_id
        res = self.client.upsert("Contact", EXTERNAL_ID, self.run.external_id("Contact"), contact)
        self._touch("Contact", res["id"], "created")
        opportunity = self._write_opportunity(opp_plan, account_id)
        return (
            f"Created Contact {res['id']}"
            + (f" on Account {account_id}" if account_id else " with no Account")
            + (f"; {opportunity}." if opportunity else ".")
        )

    def _account_updates(self) -> dict:
        return {k: v for k, v in self.values("Account").items() if k.lower() != "name"}

    def _plan_account(self, contact: dict):
        """(account id or None, "create" | "update" | "link" | None)."""
        account = self.values("Account")
        account_id = find_account(
            self.client,
            name=account.get("Name"),
            website=account.get("Website"),
            email=contact.get("Email"),
        )
        if account_id:
            return account_id, ("update" if self._account_updates() else "link")
        if not account:
            if self.mappings.get("Account"):
                self.notes.append("no Account found and the call has no Account data")
            return None, None
        self._check_create("Account", account)
        return None, "create"

    def _plan_opportunity(self, account_id, account_plan):
        """("update", id) | ("create", None) | None."""
        values = self.values("Opportunity")
        if not values:
            return None
        if not account_id and account_plan != "create":
            self.notes.append("Opportunity data discarded: no Account")
            return None
        if account_id:
            open_opps = self.client.query_all(
                "SELECT Id FROM Opportunity WHERE AccountId = {a} AND IsClosed = false "
                "ORDER BY CreatedDate LIMIT 2",
                a=account_id,
            )
            if len(open_opps) == 1:
                return ("update", open_opps[0]["Id"])
            if open_opps:
                self.notes.append("the Account has several open Opportunities; a new one is made")
        self._check_create("Opportunity", values)
        return ("create", None)

    def _write_opportunity(self, plan, account_id) -> str:
        if plan is None:
            return ""
        values = self.values("Opportunity")
        kind, opp_id = plan
        if kind == "update":
            self.client.update("Opportunity", opp_id, values)
            self._touch("Opportunity", opp_id, "updated")
            return f"updated Opportunity {opp_id}"
        res = self.client.upsert(
            "Opportunity",
            EXTERNAL_ID,
            self.run.external_id("Opportunity"),
            {**values, "AccountId": account_id},
        )
        self._touch("Opportunity", res["id"], "created")
        return f"created Opportunity {res['id']}"

    # -- convert ----------------------------------------------------------------------------
    def _convert(self, match: Match) -> str:
        # Convert into the Account the call belongs to, when there is one; else Salesforce
        # creates one from the Lead's Company.
        account = self.values("Account")
        lead_values = self.values("Lead")
        account_id = find_account(
            self.client,
            name=account.get("Name") or lead_values.get("Company") or match.row.get("Company"),
            website=account.get("Website"),
            email=self.values("Contact").get("Email") or match.row.get("Email"),
        )
        status = converted_status(self.client)  # read before the first write
        if lead_values:
            self.client.update("Lead", match.id, lead_values)
        result = self.client.convert_lead(
            match.id, status, account_id=account_id, do_not_create_opportunity=True
        )
        self._touch("Lead", match.id, "converted")
        return self._after_conversion(match.id, result["contactId"], result["accountId"])

    def _after_conversion(self, lead_id: str, contact_id: str, account_id: str | None) -> str:
        contact = self.values("Contact")
        if contact:
            self.client.update("Contact", contact_id, contact)
        self._touch("Contact", contact_id, "updated" if contact else "converted")
        if account_id:
            updates = self._account_updates()
            if updates:
                self.client.update("Account", account_id, updates)
                self._touch("Account", account_id, "updated")
            opportunity = self._write_opportunity(
                self._plan_opportunity(account_id, "link"), account_id
            )
            if opportunity:
                return f"Converted Lead {lead_id} to Contact {contact_id}; {opportunity}."
        return f"Converted Lead {lead_id} to Contact {contact_id}."


# -- lookups ------------------------------------------------------------------------------
def converted_status(client: SalesforceClient) -> str:
    rows = client.query_all(
        "SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true ORDER BY SortOrder LIMIT 1"
    )
    if not rows:
        raise RunFailed(
            "The Salesforce org has no converted Lead status, so the Lead cannot be converted.",
            fix="Add a Lead Status marked Converted in Salesforce, then retry the run.",
        )
    return rows[0]["MasterLabel"]


def find_account(client: SalesforceClient, *, name=None, website=None, email=None) -> str | None:
    """The Salesforce Id of the Account a call belongs to, as activity matching finds it: by
    domain (the Website, else the e-mail's; personal mail domains never match; one Account on
    the domain) or by company name in crmbridge's mirror, else by exact Name in Salesforce (the
    earliest created). None when nothing matches."""
    found = _mirror_account(name=name, website=website, email=email)
    if found:
        return found
    if not name:
        return None
    rows = client.query_all(
        "SELECT Id FROM Account WHERE Name = {name} ORDER BY CreatedDate LIMIT 1", name=str(name)
    )
    return rows[0]["Id"] if rows else None


def _mirror_account(*, name, website, email) -> str | None:
    account = account_for_person(
        addresses=[website, email],
        company_name=name,
        extra_personal=GlobalSettings.load().extra_personal_domains or (),
        require_sf_id=True,
    )
    return account.sf_id if account is not None else None
