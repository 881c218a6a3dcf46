"""Reads of the Salesforce mirror used by matching: one query per kind of lookup, never per item."""

from collections import defaultdict

from django.db.models import F
from django.db.models.functions import Lower

from .domains import is_personal_domain, registered_domain
from .models import Account, AccountDomain, Contact, Lead, Opportunity


def _earliest_first(prefix=""):
    """ORDER BY created date, oldest first, then pk. A row without a date (crmbridge made it and
    Salesforce has not said when) counts as the newest: without nulls_last, PostgreSQL would
    sort it last and SQLite first, so "the earliest created" would differ by database."""
    return (F(f"{prefix}sf_created_at").asc(nulls_last=True), f"{prefix}pk")


def _chunks(values, size=10000):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def accounts_for_domains(*, domains, known=None) -> dict[str, list[Account]]:
    """domain -> the (not deleted) Accounts having it, oldest first (owner_id, not the owner
    row: matching compares ids). `known` (pk -> Account) gains the Accounts read, and those
    already in it are not read again."""
    known = {} if known is None else known
    pairs = []
    for chunk in _chunks({d for d in domains if d}):
        pairs += (
            AccountDomain.objects.filter(domain__in=chunk, account__is_deleted=False)
            .order_by(*_earliest_first("account__"))
            .values_list("domain", "account_id")
        )
    accounts_by_pk(pks={pk for _, pk in pairs}, known=known)
    found = defaultdict(list)
    for domain, pk in pairs:
        if known[pk] not in found[domain]:
            found[domain].append(known[pk])
    return dict(found)


def accounts_by_pk(*, pks, known) -> dict[int, Account]:
    """`known` (pk -> Account) with the Accounts of `pks` it lacks read into it."""
    for chunk in _chunks(set(pks) - known.keys()):
        known.update(Account.objects.in_bulk(chunk))
    return known


def contacts_by_email(*, emails, accounts=None) -> dict[str, list[Contact]]:
    """lower-case e-mail -> the (not deleted) Contacts with it, with their Account (taken from
    `accounts`, pk -> Account, when it has it; it gains the others)."""
    found = defaultdict(list)
    accounts = {} if accounts is None else accounts
    rows = []
    for chunk in _chunks({e.lower() for e in emails if e}):
        rows += (
            Contact.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=chunk, is_deleted=False)
            .order_by(*_earliest_first())
        )
    accounts_by_pk(pks={c.account_id for c in rows if c.account_id}, known=accounts)
    for row in rows:
        if row.account_id:
            row.account = accounts[row.account_id]
        found[row.email_lower].append(row)
    return dict(found)


def leads_by_email(*, emails) -> dict[str, list[Lead]]:
    """lower-case e-mail -> the unconverted, not deleted Leads with it."""
    found = defaultdict(list)
    for chunk in _chunks({e.lower() for e in emails if e}):
        rows = (
            Lead.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=chunk, is_deleted=False, is_converted=False)
            .order_by(*_earliest_first())
        )
        for row in rows:
            found[row.email_lower].append(row)
    return dict(found)


def open_opportunities_for_accounts(*, account_ids, owner_ids=None) -> dict[int, list[Opportunity]]:
    """Account pk -> its open (not closed, not deleted) Opportunities; with `owner_ids`, only
    those owned by one of these Salesforce Users."""
    found = defaultdict(list)
    owned = {} if owner_ids is None else {"owner_id__in": owner_ids}
    for chunk in _chunks({pk for pk in account_ids if pk}):
        rows = Opportunity.objects.filter(
            account_id__in=chunk, is_closed=False, is_deleted=False, **owned
        ).order_by("pk")
        for row in rows:
            found[row.account_id].append(row)
    return dict(found)


def account_for_company_name(*, name) -> Account | None:
    """The Account a company name means: exact (case-insensitive) name, the earliest created
    when several; else the one Account whose name contains it; else None."""
    name = (name or "").strip()
    if not name:
        return None
    live = Account.objects.filter(is_deleted=False)
    exact = live.filter(name__iexact=name).order_by(*_earliest_first()).first()
    if exact is not None:
        return exact
    # "Acme" finds "Acme Corporation" when no other Account name contains "Acme".
    candidates = list(live.filter(name__icontains=name).order_by("pk")[:2])
    return candidates[0] if len(candidates) == 1 else None


def account_suggestions_for_contacts(*, contacts) -> dict[int, tuple[Account, str]]:
    """Contact pk -> (suggested Account, why): by the e-mail's domain first (one Account only),
    then by the company name of a Lead with the same e-mail. Bounded queries for a page."""
    contacts = list(contacts)
    domain_of = {c.pk: registered_domain(c.email) for c in contacts}
    by_domain = accounts_for_domains(domains=set(domain_of.values()))
    leads = leads_by_email(emails=[c.email for c in contacts if c.email])
    suggestions = {}
    for contact in contacts:
        domain = domain_of[contact.pk]
        accounts = by_domain.get(domain, []) if domain else []
        if len(accounts) == 1:
            suggestions[contact.pk] = (accounts[0], f"its e-mail domain {domain}")
            continue
        for lead in leads.get((contact.email or "").lower(), []):
            account = account_for_company_name(name=lead.company)
            if account is not None:
                suggestions[contact.pk] = (account, f"the company name {lead.company!r}")
                break
    return suggestions


def account_for_person(
    *, addresses, company_name="", extra_personal=(), require_sf_id=False
) -> Account | None:
    """The Account a person belongs to: by the domain of their e-mail or website (`addresses`,
    in order; personal mail domains never count), when exactly one Account has it; else by
    company name (account_for_company_name). With `require_sf_id`, only Accounts Salesforce
    knows count."""
    domains = []
    for value in addresses:
        domain = registered_domain(str(value)) if value else None
        if (
            domain
            and domain not in domains
            and not is_personal_domain(domain, extra=extra_personal)
        ):
            domains.append(domain)
    by_domain = accounts_for_domains(domains=domains) if domains else {}
    for domain in domains:
        accounts = [a for a in by_domain.get(domain, []) if a.sf_id or not require_sf_id]
        if len(accounts) == 1:
            return accounts[0]
    account = account_for_company_name(name=str(company_name or ""))
    if account is not None and (account.sf_id or not require_sf_id):
        return account
    return None
