""" "Why did no Contact get created?" for one e-mail address: the most recent activities with that
address and, for each, every gate passed or failed in words (which domains were tried, which
profile, which fields are missing), or the Contact / Lead that already exists.

Used by the API (GET /api/v1/diagnostics/contact-creation/?email=) and the admin page; both show
the same dict. A bounded number of queries whatever the number of activities.
"""

from __future__ import annotations

from django.db.models.functions import Lower

from accounts.selectors import contacts_by_email, leads_by_email
from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, CSM, has_role
from crmbridge.selectors import profile_for_user

from .decisions import evaluate_gates, participant_details, with_messages
from .diagnostics_words import verdict
from .models import ContactDecision, Participant

DEFAULT_LIMIT = 10


def _person(record, kind) -> dict | None:
    if record is None:
        return None
    return {
        "kind": kind,
        "id": record.pk,
        "sf_id": record.sf_id,
        "name": str(record),
        "email": record.email,
        "created_by_crmbridge": record.created_by_crmbridge,
    }


def _may_see_all(user) -> bool:
    return user is None or has_role(user, ADMIN, CSM)


def contact_creation_diagnosis(*, email: str, user=None, limit: int = DEFAULT_LIMIT) -> dict:
    """The answer for `email` as `user` may see it (a Rep: their own activities only)."""
    email = (email or "").strip()
    key = email.lower()
    contacts = contacts_by_email(emails=[key]).get(key, [])
    leads = leads_by_email(emails=[key]).get(key, [])
    existing_contact = contacts[0] if contacts else None
    existing_lead = leads[0] if leads else None

    participants = (
        Participant.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=key)
        .select_related("activity", "activity__owner", "activity__account", "activity__opportunity")
        .order_by("-activity__occurred_at", "-activity_id")
    )
    if not _may_see_all(user):
        participants = participants.filter(activity__owner=user)
    participants = list(participants[:limit])
    decisions = {
        d.participant_id: d
        for d in ContactDecision.objects.filter(participant__in=[p.pk for p in participants])
    }
    settings = GlobalSettings.load()
    profiles = {}
    rows = []
    for p in participants:
        activity = p.activity
        decision = decisions.get(p.pk)
        row = {
            "activity": {
                "id": activity.pk,
                "kind": activity.kind,
                "subject": activity.subject,
                "occurred_at": activity.occurred_at.isoformat(),
                "owner": activity.owner.get_username(),
                "match_status": activity.match_status,
                "match_reason": activity.match_reason,
                "account": activity.account.name if activity.account else None,
                "opportunity": activity.opportunity.name if activity.opportunity else None,
            },
            "participant": {
                "role": p.role,
                "is_internal": p.is_internal,
                "domain": p.domain,
                "matched_kind": p.matched_kind,
                "match_rule": p.match_rule,
                "match_reason": p.match_reason,
            },
        }
        if p.is_internal:
            row.update(
                outcome="internal",
                outcome_label="Internal participant: crmbridge creates no Contact for "
                "the company's own people.",
                decided=False,
                profile=None,
                checks=[],
            )
        elif decision is not None:
            row.update(
                outcome=decision.outcome,
                outcome_label=decision.get_outcome_display(),
                decided=True,
                decided_at=decision.decided_at.isoformat(),
                profile=decision.profile_name or None,
                checks=with_messages(decision.checks),
            )
        else:
            # Not decided yet (e.g. still being matched): the gates as they stand now.
            if activity.owner_id not in profiles:
                profiles[activity.owner_id] = profile_for_user(user=activity.owner)
            profile = profiles[activity.owner_id]
            details = participant_details(activity, p)
            checks = evaluate_gates(
                settings=settings,
                profile=profile,
                activity=activity,
                participant=p,
                details=details,
            )
            row.update(
                outcome="not_decided",
                outcome_label="Not decided yet: these are the checks as they stand now.",
                decided=False,
                profile=profile.name if profile else None,
                checks=with_messages(checks),
            )
        row["failed"] = [c["code"] for c in row["checks"] if not c["passed"]]
        rows.append(row)
    summary = verdict(email=email, contact=existing_contact, lead=existing_lead, rows=rows)
    return {
        "email": email,
        "summary": summary,
        "contact": _person(existing_contact, "contact"),
        "lead": _person(existing_lead, "lead"),
        "activities": rows,
    }
