"""Demo activity: a few thousand e-mails, meetings and calls for rep, rep2 and admin, covering
every match outcome, written as JSON Lines under var/ and loaded with `import_activities` (the
same code path as any import). Deterministic and idempotent: external ids are stable.
"""

import datetime as dt
import json
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AccountDomain, Contact, Lead
from crmbridge.demo import DEMO_DOMAIN
from crmbridge.models import GlobalSettings
from crmbridge.services import global_settings_update

TOTAL = 3000
OWNERS = [("rep", 0.6), ("rep2", 0.3), ("admin", 0.1)]
SUBJECTS = {
    "email": ["Follow-up", "Proposal", "Pricing question", "Intro", "Re: contract", "Next steps"],
    "meeting": ["Discovery call", "Demo", "QBR", "Kick-off", "Security review"],
    "call": ["Cold call", "Call back", "Check-in call"],
}
UNKNOWN_DOMAINS = ["nowhere-inc.com", "startup.io", "bluefin-analytics.de", "googleventures.com"]
PERSONAL = ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com"]


def _people(rng, n):
    first = ["Ana", "Ben", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jo"]
    last = ["Ito", "Kim", "Lopez", "Meyer", "Novak", "Okafor", "Patel", "Quinn", "Rossi"]
    return [(rng.choice(first), rng.choice(last)) for _ in range(n)]


def build_items(*, rng, owners, contacts, leads, domains, shared_domains):
    """The demo activities as API dicts, one outcome after another."""
    items = []
    base = timezone.now().replace(microsecond=0)
    for n in range(TOTAL):
        owner = rng.choices([o for o, _ in owners], weights=[w for _, w in owners])[0]
        kind = rng.choice(["email"] * 6 + ["meeting"] * 3 + ["call"])
        outcome = n % 10
        (first, last), (first2, last2) = _people(rng, 2)
        people = [{"email": f"{owner}@{DEMO_DOMAIN}", "name": owner.title(), "role": "from"}]
        if outcome in (0, 1, 2) and contacts:  # a known Contact
            contact = rng.choice(contacts)
            people.append({"email": contact[0], "name": contact[1], "role": "to"})
        elif outcome in (3, 4) and domains:  # a new person at an Account's (sub)domain
            domain = rng.choice(domains)
            host = domain if outcome == 3 else f"eu.{domain}"
            people.append(
                {
                    "email": f"{first}.{last}{n}@{host}".lower(),
                    "name": f"{first} {last}",
                    "role": "to",
                    "title": rng.choice(["VP of Engineering", "Finance Manager", "CTO", ""]),
                    "country": rng.choice(["Germany", "United States", ""]),
                }
            )
        elif outcome == 5 and shared_domains:  # a domain two Accounts share
            people.append({"email": f"{first}{n}@{rng.choice(shared_domains)}".lower()})
        elif outcome == 6 and len(domains) > 1:  # people from two Accounts
            one, two = rng.sample(domains, 2)
            people.append({"email": f"{first}{n}@{one}".lower(), "name": f"{first} {last}"})
            people.append({"email": f"{first2}{n}@{two}".lower(), "name": f"{first2} {last2}"})
        elif outcome == 7:  # personal mail, or a domain no Account has
            pool = PERSONAL if n % 20 < 10 else UNKNOWN_DOMAINS
            people.append({"email": f"{first}.{last}{n}@{rng.choice(pool)}".lower()})
        elif outcome == 8 and leads:  # a Lead
            people.append({"email": leads[n % len(leads)], "role": "to"})
        else:  # internal only
            people.append(
                {"email": f"rep2@{DEMO_DOMAIN}" if owner != "rep2" else f"rep@{DEMO_DOMAIN}"}
            )
        kind_subjects = SUBJECTS[kind]
        items.append(
            {
                "source": "demo",
                "external_id": f"demo-{n}",
                "kind": kind,
                "occurred_at": (base - dt.timedelta(minutes=37 * n)).isoformat(),
                "owner": f"{owner}@{DEMO_DOMAIN}",
                "subject": f"{rng.choice(kind_subjects)} #{n}",
                "body": "",
                "participants": people,
            }
        )
    return items


def load_demo(out):
    settings_row = GlobalSettings.load()
    if DEMO_DOMAIN not in (settings_row.internal_domains or []):
        global_settings_update(
            changes={"internal_domains": [*(settings_row.internal_domains or []), DEMO_DOMAIN]}
        )
    users = get_user_model().objects.filter(username__in=[o for o, _ in OWNERS])
    owners = [(o, w) for o, w in OWNERS if any(u.username == o for u in users)]
    if not owners:
        out.write("  no demo users; no activities loaded")
        return
    rng = random.Random(5)
    contacts = [
        (c.email, f"{c.first_name} {c.last_name}".strip())
        for c in Contact.objects.filter(is_deleted=False, account__isnull=False)
        .exclude(email="")
        .order_by("pk")[:2000]
    ]
    leads = list(
        Lead.objects.filter(is_deleted=False, is_converted=False)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)[:500]
    )
    rows = AccountDomain.objects.filter(account__is_deleted=False).values_list("domain", flat=True)
    seen = {}
    for domain in rows:
        seen[domain] = seen.get(domain, 0) + 1
    shared = sorted(d for d, count in seen.items() if count > 1)
    domains = sorted(d for d, count in seen.items() if count == 1)
    items = build_items(
        rng=rng,
        owners=owners,
        contacts=contacts,
        leads=leads,
        domains=domains,
        shared_domains=shared,
    )
    path = settings.VAR_DIR / "demo_activities.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item) + "\n")
    out.write(f"  {len(items)} demo activities written to {path}; importing")
    call_command(
        "import_activities", str(path), "--no-progress", "--show-rejected", "5", stdout=out
    )
