"""Demo data of the accounts app: domains of every mirrored Account, plus a few added by an admin.

Runs after the sync demo has pulled the emulated org into the mirror. Idempotent.
"""

from django.contrib.auth import get_user_model

from .domain_services import account_domain_add, account_domains_refresh_many
from .models import Account, AccountDomain

# (index of the Account in name order, domain an admin adds). Two Accounts share
# "northwind-holdings.com", so activity from it is ambiguous unless the rep owns one of them.
ADMIN_DOMAINS = [
    (0, "northwind-holdings.com"),
    (1, "northwind-holdings.com"),
    (2, "initech-labs.com"),
    (3, "umbrella-research.co.uk"),
]


def load_demo(out):
    accounts = list(Account.objects.filter(is_deleted=False).order_by("name", "pk"))
    if not accounts:
        out.write("  no Accounts in the mirror yet (the sync demo pulls them); no domains made")
        return
    for start in range(0, len(accounts), 1000):
        account_domains_refresh_many(accounts=accounts[start : start + 1000])
    admin = get_user_model().objects.filter(username="admin").first()
    added = 0
    for index, domain in ADMIN_DOMAINS:
        if index >= len(accounts):
            continue
        account = accounts[index]
        if not AccountDomain.objects.filter(account=account, domain=domain).exists():
            account_domain_add(account=account, domain=domain, user=admin)
            added += 1
    total = AccountDomain.objects.count()
    out.write(f"  {total} Account domains ({added} added by the demo admin this run)")
