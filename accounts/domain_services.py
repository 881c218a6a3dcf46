"""Writes of Account domains: from the Website and Alternate_Domains__c, or added by an admin.

(Contact creation lives in accounts/services.py; domain writes live here.)
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from crmbridge.bulk import rows_insert
from crmbridge.models import GlobalSettings
from integrations.outbox.services import outbox_enqueue

from .domains import is_internal_host, is_personal_domain, registered_domain, registered_domains
from .models import Account, AccountDomain
from .signals import account_domains_added


def _desired_synced_domains(account) -> dict[str, str]:
    """domain -> source, for the domains the Account's Salesforce fields give."""
    wanted = {}
    website = registered_domain(account.website) if account.website else None
    if website:
        wanted[website] = AccountDomain.Source.WEBSITE
    alternates, _ = registered_domains(account.alternate_domains)
    for domain in alternates:
        wanted.setdefault(domain, AccountDomain.Source.ALTERNATE)
    return wanted


def account_domains_refresh_many(*, accounts) -> dict[int, set[str]]:
    """Rebuild the Website/alternate AccountDomain rows of `accounts` from their fields.

    Domains added by an admin stay. Returns Account pk -> the domains it gained, so a caller can
    announce them (accounts.signals.account_domains_added).
    """
    accounts = list(accounts)
    if not accounts:
        return {}
    existing = {}
    for row in AccountDomain.objects.filter(account__in=accounts):
        existing.setdefault(row.account_id, {})[row.domain] = row
    to_create, to_delete, to_update, gained = [], [], [], {}
    for account in accounts:
        wanted = _desired_synced_domains(account) if not account.is_deleted else {}
        have = existing.get(account.pk, {})
        for domain, row in have.items():
            if row.source == AccountDomain.Source.ADMIN:
                continue
            if domain not in wanted:
                to_delete.append(row.pk)
            elif row.source != wanted[domain]:
                row.source = wanted[domain]
                to_update.append(row)
        for domain, source in wanted.items():
            if domain not in have:
                to_create.append({"account_id": account.pk, "domain": domain, "source": source})
                gained.setdefault(account.pk, set()).add(domain)
    with transaction.atomic():
        if to_delete:
            AccountDomain.objects.filter(pk__in=to_delete).delete()
        if to_update:
            AccountDomain.objects.bulk_update(to_update, ["source"])
        # Plain rows, not instances (a first pull brings tens of thousands); a domain an admin
        # added meanwhile stays as it is.
        rows_insert(model=AccountDomain, rows=to_create, conflict=("account", "domain"))
    return gained


def account_domains_refresh(*, account) -> set[str]:
    """Rebuild one Account's Website/alternate domains (call after pulling the Account)."""
    return account_domains_refresh_many(accounts=[account]).get(account.pk, set())


def domain_validate_for_account(*, account, domain) -> str:
    """The registered domain to add to `account`, or a ValidationError saying why not."""
    clean = registered_domain(domain)
    if clean is None:
        raise ValidationError(
            {"domain": f"{domain!r} is not a domain (write it like acme.com)."}, code="invalid"
        )
    settings = GlobalSettings.load()
    if is_personal_domain(clean, extra=settings.extra_personal_domains):
        raise ValidationError(
            {"domain": f"{clean} is a personal mail domain; it never matches an Account."},
            code="personal",
        )
    if is_internal_host(clean, internal=settings.internal_domains):
        raise ValidationError(
            {"domain": f"{clean} is one of your company's own domains."}, code="internal"
        )
    if AccountDomain.objects.filter(account=account, domain=clean).exists():
        raise ValidationError(
            {"domain": f"{clean} is already a domain of {account.name}."}, code="duplicate"
        )
    return clean


def _alternate_domains_payload(account) -> str:
    tokens, _ = registered_domains(account.alternate_domains)
    admin_added = AccountDomain.objects.filter(
        account=account, source=AccountDomain.Source.ADMIN
    ).values_list("domain", flat=True)
    for domain in admin_added:
        if domain not in tokens:
            tokens.append(domain)
    return ", ".join(tokens)


def _announce_after_commit(domains):
    domains = sorted(set(domains))
    transaction.on_commit(
        lambda: account_domains_added.send(sender=AccountDomain, domains=domains, background=True)
    )


@transaction.atomic
def account_domain_add(*, account: Account, domain: str, user=None) -> AccountDomain:
    """Add a domain to an Account (an admin's choice), push it to Salesforce's
    Alternate_Domains__c, and re-match the domain's recent unmatched activity in the background."""
    clean = domain_validate_for_account(account=account, domain=domain)
    row = AccountDomain.objects.create(
        account=account, domain=clean, source=AccountDomain.Source.ADMIN, created_by=user
    )
    if account.sf_id:
        outbox_enqueue(
            sobject="Account",
            sf_id=account.sf_id,
            payload={"Alternate_Domains__c": _alternate_domains_payload(account)},
            local=account,
        )
    _announce_after_commit([clean])
    return row


@transaction.atomic
def account_domain_remove(*, account_domain: AccountDomain, user=None) -> None:
    """Remove a domain an admin added (Website/alternate domains change in Salesforce only)."""
    if account_domain.source != AccountDomain.Source.ADMIN:
        raise ValidationError(
            {
                "domain": f"{account_domain.domain} comes from the Account's "
                f"{account_domain.get_source_display()}; change it in Salesforce."
            },
            code="synced",
        )
    account = account_domain.account
    account_domain.delete()
    if account.sf_id:
        outbox_enqueue(
            sobject="Account",
            sf_id=account.sf_id,
            payload={"Alternate_Domains__c": _alternate_domains_payload(account)},
            local=account,
        )
