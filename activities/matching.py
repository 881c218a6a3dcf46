"""Matching an activity to a Salesforce Account: pure functions over data already loaded.

`MatchContext` holds what the database said (Contacts and Leads by e-mail, Accounts by domain,
open Opportunities by Account, the organisation's domain settings); `match_activity` decides,
and records why in words a rep understands. No queries happen here.

Per external participant: Contact by exact e-mail, then Lead by exact e-mail, then Account by
the e-mail's registered domain (never a personal mail domain). Several Accounts on a domain are
ambiguous unless exactly one is owned by the activity's owner. The activity's Account is the
one its external participants point at; when they disagree, the one owned by the owner, else
ambiguous. An Opportunity is linked when that Account has exactly one open Opportunity owned
by the activity's owner.
"""

from dataclasses import dataclass, field

from accounts.domains import host_of, is_internal_host, is_personal_domain, registered_domain

# Activity status values (activities.models.Activity.MatchStatus).
MATCHED, UNMATCHED, AMBIGUOUS, INTERNAL = "matched", "unmatched", "ambiguous", "internal"


@dataclass
class MatchContext:
    contacts: dict = field(default_factory=dict)  # lower e-mail -> [Contact]
    leads: dict = field(default_factory=dict)  # lower e-mail -> [Lead]
    accounts: dict = field(default_factory=dict)  # domain -> [Account]
    open_opportunities: dict = field(default_factory=dict)  # Account pk -> [Opportunity]
    internal_domains: tuple = ()
    extra_personal_domains: tuple = ()


@dataclass
class ParticipantMatch:
    email: str
    domain: str = ""
    is_internal: bool = False
    matched_kind: str = ""  # contact | lead | account | ""
    rule: str = ""
    reason: str = ""
    contact: object = None
    lead: object = None
    account: object = None
    candidates: list = field(default_factory=list)  # Accounts when ambiguous


@dataclass
class ActivityMatch:
    status: str
    reason_code: str
    reason: str
    account: object = None
    opportunity: object = None
    participants: list = field(default_factory=list)


def participant_domain(email) -> str:
    """The registered domain stored on a participant ('' when the address has none)."""
    return registered_domain(email) or ""


def _owned_by(accounts, owner_sf_user_id):
    if owner_sf_user_id is None:
        return []
    return [a for a in accounts if a.owner_id == owner_sf_user_id]


def _names(accounts):
    return ", ".join(a.name for a in accounts)


def match_participant(email, *, owner_sf_user_id, ctx: MatchContext) -> ParticipantMatch:
    email_l = email.lower()
    host = host_of(email_l)
    domain = participant_domain(email_l)
    result = ParticipantMatch(email=email, domain=domain)
    if is_internal_host(host, internal=ctx.internal_domains):
        result.is_internal = True
        result.rule = "internal"
        result.reason = f"Internal: {host} is one of your company's own domains."
        return result

    contacts = ctx.contacts.get(email_l, [])
    if contacts:
        with_account = [c for c in contacts if c.account_id]
        owned = [
            c for c in with_account if owner_sf_user_id and c.account.owner_id == owner_sf_user_id
        ]
        contact = (owned or with_account or contacts)[0]
        result.matched_kind, result.rule, result.contact = "contact", "contact_email", contact
        if contact.account_id:
            result.account = contact.account
            result.reason = f"Contact {contact} (exact e-mail), of Account {contact.account.name}."
        else:
            result.reason = f"Contact {contact} (exact e-mail); that Contact has no Account."
        return result

    leads = ctx.leads.get(email_l, [])
    if leads:
        lead = leads[0]
        result.matched_kind, result.rule, result.lead = "lead", "lead_email", lead
        company = f" at {lead.company}" if lead.company else ""
        result.reason = f"Lead {lead}{company} (exact e-mail); a Lead belongs to no Account."
        return result

    tried = "No Contact or Lead has this e-mail"
    if not domain:
        result.rule = "no_domain"
        result.reason = f"{tried}, and {host or email} is not a domain an Account can have."
        return result
    if is_personal_domain(domain, extra=ctx.extra_personal_domains):
        result.rule = "personal_domain"
        result.reason = f"{tried}; {domain} is a personal mail domain, never matched by domain."
        return result
    accounts = ctx.accounts.get(domain, [])
    if not accounts:
        result.rule = "no_account_for_domain"
        result.reason = f"{tried}, and no Account has the domain {domain}."
        return result
    if len(accounts) == 1:
        result.matched_kind, result.rule, result.account = "account", "domain", accounts[0]
        result.reason = f"{tried}; Account {accounts[0].name} has the domain {domain}."
        return result
    owned = _owned_by(accounts, owner_sf_user_id)
    if len(owned) == 1:
        result.matched_kind, result.rule, result.account = "account", "domain_owner", owned[0]
        result.reason = (
            f"{tried}; {len(accounts)} Accounts have the domain {domain} "
            f"({_names(accounts)}); {owned[0].name} is the one owned by the activity's owner."
        )
        return result
    result.rule = "ambiguous_domain"
    result.candidates = list(accounts)
    result.reason = (
        f"{tried}; {len(accounts)} Accounts have the domain {domain} ({_names(accounts)}) "
        f"and {'several' if owned else 'none'} of them "
        f"{'are' if owned else 'is'} owned by the activity's owner."
    )
    return result


def _opportunity_for(account, owner_sf_user_id, ctx):
    if account is None or owner_sf_user_id is None:
        return None, ""
    mine = [o for o in ctx.open_opportunities.get(account.pk, []) if o.owner_id == owner_sf_user_id]
    if len(mine) == 1:
        return mine[0], f" Opportunity {mine[0].name}: the Account's one open Opportunity you own."
    if mine:
        return None, f" No Opportunity linked: you own {len(mine)} open ones on this Account."
    return None, ""


def match_activity(*, emails, owner_sf_user_id, ctx: MatchContext) -> ActivityMatch:
    """Match one activity, given its participants' e-mails and its owner's Salesforce User pk."""
    parts = [match_participant(e, owner_sf_user_id=owner_sf_user_id, ctx=ctx) for e in emails]
    external = [p for p in parts if not p.is_internal]
    if not external:
        return ActivityMatch(
            INTERNAL,
            "internal_only",
            "Every participant is from your company's own domains.",
            participants=parts,
        )

    pointed = []
    for p in external:
        if p.account is not None and p.account not in pointed:
            pointed.append(p.account)

    if len(pointed) == 1:
        account = pointed[0]
        who = [p.email for p in external if p.account == account]
        status, code = MATCHED, "single_account"
        verb = "points" if len(who) == 1 else "point"
        reason = f"Matched {account.name}: {', '.join(who)} {verb} there."
    elif len(pointed) > 1:
        owned = _owned_by(pointed, owner_sf_user_id)
        if len(owned) == 1:
            account = owned[0]
            status, code = MATCHED, "owner_tiebreak"
            reason = (
                f"Matched {account.name}: participants point at {_names(pointed)}, and "
                f"{account.name} is the one owned by the activity's owner."
            )
        else:
            return ActivityMatch(
                AMBIGUOUS,
                "conflicting_accounts",
                f"Participants point at different Accounts ({_names(pointed)}) and "
                f"{'several' if owned else 'none'} of them "
                f"{'are' if owned else 'is'} owned by the activity's owner. Use Edit match.",
                participants=parts,
            )
    else:
        ambiguous = [p for p in external if p.candidates]
        if ambiguous:
            candidates = []
            for p in ambiguous:
                candidates += [a for a in p.candidates if a not in candidates]
            return ActivityMatch(
                AMBIGUOUS,
                "ambiguous_domain",
                f"Several Accounts share the domain of {', '.join(p.email for p in ambiguous)} "
                f"({_names(candidates)}). Use Edit match to choose one.",
                participants=parts,
            )
        if all(p.matched_kind == "lead" for p in external):
            code = "lead_only"
            reason = "Only Leads matched, and a Lead belongs to no Account."
        elif all(p.rule == "personal_domain" for p in external):
            code = "personal_only"
            reason = "Every external participant uses a personal mail domain (e.g. gmail.com)."
        else:
            code = "no_account"
            tried = sorted({p.domain for p in external if p.domain})
            reason = "No participant matched an Account" + (
                f" (domains tried: {', '.join(tried)})." if tried else "."
            )
        return ActivityMatch(UNMATCHED, code, reason, participants=parts)

    opportunity, opp_reason = _opportunity_for(account, owner_sf_user_id, ctx)
    return ActivityMatch(
        status, code, reason + opp_reason, account, opportunity, participants=parts
    )
