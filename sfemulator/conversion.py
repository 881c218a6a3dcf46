"""Lead conversion, as SOAP ``convertLead`` does it."""

from __future__ import annotations

import datetime as dt

from .errors import ApiError
from .schema import OBJECTS


class OrgConversion:
    """Mixed into Org."""

    # -- lead conversion ----------------------------------------------------------------------
    def convert_lead(
        self,
        lead_id: str,
        converted_status: str,
        *,
        account_id: str | None = None,
        contact_id: str | None = None,
        do_not_create_opportunity: bool = False,
        opportunity_name: str | None = None,
        owner_id: str | None = None,
    ) -> dict:
        """Convert a lead as SOAP convertLead does; returns {leadId, accountId, contactId,
        opportunityId}. Raises ApiError (the SOAP layer turns it into a per-result error)."""
        lead_obj = OBJECTS["Lead"]
        with self.transaction():
            lid = self.parse_id(lead_obj, lead_id)
            lead = self._row(lead_obj, lid)
            if lead is None:
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
            if lead["IsConverted"]:
                raise ApiError(
                    400, "CANNOT_UPDATE_CONVERTED_LEAD", "This lead was already converted.", []
                )
            status = self.conn.execute(
                'SELECT MasterLabel, IsConverted FROM "LeadStatus" WHERE MasterLabel = ? '
                "AND IsDeleted = 0",
                (converted_status or "",),
            ).fetchone()
            if status is None or not status[1]:
                raise ApiError(
                    400, "INVALID_STATUS", f"invalid convertedStatus: {converted_status}", []
                )
            owner = owner_id or lead["OwnerId"]
            if account_id:
                acc_id = self.parse_id(OBJECTS["Account"], account_id)
                if self._row(OBJECTS["Account"], acc_id) is None:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        ["accountId"],
                    )
            else:
                acc_id = self._insert(
                    OBJECTS["Account"], {"Name": lead["Company"], "OwnerId": owner}
                )
            contact_fields = {
                "FirstName": lead["FirstName"],
                "LastName": lead["LastName"],
                "Email": lead["Email"],
                "Title": lead["Title"],
                "Phone": lead["Phone"],
                "MailingCountry": lead["Country"],
                "Department": lead["Department"],
                "Seniority__c": lead["Seniority__c"],
                "LeadSource": lead["LeadSource"],
            }
            if contact_id:
                con_id = self.parse_id(OBJECTS["Contact"], contact_id)
                contact = self._row(OBJECTS["Contact"], con_id)
                if contact is None:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        ["contactId"],
                    )
                if contact["AccountId"] and contact["AccountId"] != acc_id:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "The contact does not belong to the account",
                        ["contactId"],
                    )
                fill = {k: v for k, v in contact_fields.items() if v and not contact[k]}
                fill["AccountId"] = acc_id
                self._update(OBJECTS["Contact"], con_id, fill)
            else:
                con_id = self._insert(
                    OBJECTS["Contact"],
                    {
                        **{k: v for k, v in contact_fields.items() if v is not None},
                        "AccountId": acc_id,
                        "OwnerId": owner,
                    },
                )
            opp_id = None
            if not do_not_create_opportunity:
                close = self.clock().date() + dt.timedelta(days=30)
                opp_id = self._insert(
                    OBJECTS["Opportunity"],
                    {
                        "Name": opportunity_name or f"{lead['Company']}-",
                        "StageName": "Prospecting",
                        "CloseDate": close.isoformat(),
                        "AccountId": acc_id,
                        "OwnerId": owner,
                    },
                )
            now = self.now()
            self.conn.execute(
                'UPDATE "Lead" SET IsConverted = 1, Status = ?, ConvertedAccountId = ?, '
                "ConvertedContactId = ?, ConvertedOpportunityId = ?, LastModifiedDate = ?, "
                "SystemModstamp = ? WHERE Id = ?",
                (status[0], acc_id, con_id, opp_id, now, now, lid),
            )
        return {"leadId": lid, "accountId": acc_id, "contactId": con_id, "opportunityId": opp_id}
