"""A deterministic demo org: Users, LeadStatus values, Accounts, Contacts, Leads, Opportunities."""

from __future__ import annotations

import datetime as dt
import random

from .schema import LEAD_STATUSES, OBJECTS

# The demo org's connected app: the demo crmbridge at http://127.0.0.1:8000 connects with it
# (web server flow to this callback, or client credentials as the org's API user).
DEMO_APP_NAME = "crmbridge demo"
DEMO_CONSUMER_KEY = "3MVG9crmbridge.demo.emulated.org.consumer.key"
DEMO_CONSUMER_SECRET = "crmbridge-demo-consumer-secret"
DEMO_CALLBACK_URL = "http://127.0.0.1:8000/admin/salesforce/connection/callback/"

DEMO_USERS = [
    ("Ada Admin", "admin@crmbridge.example"),
    ("Cora Success", "csm@crmbridge.example"),
    # The same names as the demo's crmbridge users (crmbridge.demo): one name per person.
    ("Rex Seller", "rep@crmbridge.example"),
    ("Rita Closer", "rep2@crmbridge.example"),
]
_FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Xena",
    "Yusuf",
    "Zoe",
]
_LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Muller",
    "Nakamura",
    "Okafor",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Novak",
    "Silva",
    "Weber",
    "Young",
    "Zhang",
]
_WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
    "Aperture",
    "Massive",
    "Pied",
    "Dunder",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Blue",
    "Northwind",
    "Contoso",
    "Fabrikam",
]
_SUFFIX = [
    "Corp",
    "Labs",
    "Systems",
    "Group",
    "Industries",
    "Analytics",
    "Software",
    "Partners",
    "Logistics",
    "Health",
    "Energy",
    "Foods",
]
_TLDS = ["com", "io", "co.uk", "de", "fr", "net", "com.au"]
# By the Account's number, not drawn: the seeded org stays what it was for a given seed.
_CITIES = ["Berlin", "London", "Lyon", "Austin", "Sydney", "Toronto", "Madrid", "Osaka", "Prague"]
TITLES = [
    "Chief Information Officer",
    "VP of Engineering",
    "Director of Marketing",
    "Senior Software Engineer",
    "Technical Project Manager",
    "Solutions Engineer",
    "Sr. Solutions Engineer",
    "Finance Manager",
    "Head of Information Systems",
    "Technical Consultant",
    "Marketing Operations Manager",
    "Customer Success Manager",
    "Account Executive",
    "Chief Financial Officer",
    "IT Administrator",
    "Technical Lead",
    "Operations Analyst",
    "HR Business Partner",
    "General Counsel",
    "Data Scientist",
    "Product Marketing Manager",
    "Sales Development Representative",
    "Controller",
    "Nontechnical Recruiter",
    "Directeur Commercial",
    "Vertriebsleiter",
    "技术总监",
]
COUNTRIES = [
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "Australia",
    "Japan",
    "Canada",
    "Netherlands",
    "Spain",
    "Brazil",
]
STAGES_OPEN = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
]


def demo_connected_app(org):
    """The demo org's connected app (made once): the demo crmbridge signs in with it."""
    app = org.connected_app(DEMO_CONSUMER_KEY)
    if app is None:
        app = org.create_connected_app(
            DEMO_APP_NAME,
            consumer_key=DEMO_CONSUMER_KEY,
            consumer_secret=DEMO_CONSUMER_SECRET,
            callback_urls=[DEMO_CALLBACK_URL],
            run_as=org.username,
        )
    return app


def seed_demo(
    org,
    *,
    seed: int = 42,
    accounts: int = 300,
    contacts_per_account: int = 4,
    leads: int = 150,
    opportunities: int = 120,
) -> dict:
    """Load the demo world into ``org``. Deterministic for a seed; idempotent (a second run
    finds the rows by their Crmbridge_Id__c and leaves them alone). Returns counts created."""
    rng = random.Random(seed)
    demo_connected_app(org)
    created = {"User": 0, "LeadStatus": 0, "Account": 0, "Contact": 0, "Lead": 0, "Opportunity": 0}
    base_date = dt.date(2025, 1, 1)

    def ensure(sobject, ext, data):
        with org.transaction():
            existing = org.find_by_external(_obj(sobject), "Crmbridge_Id__c", ext)
            if existing:
                return existing[0]
            created[sobject] += 1
            return org._insert(_obj(sobject), {**data, "Crmbridge_Id__c": ext})

    user_ids = []
    for name, email in DEMO_USERS:
        found = org.find_by_external(_obj("User"), "Crmbridge_Id__c", f"demo-user-{email}")
        if not found:
            with org.transaction():
                row = org.conn.execute(
                    'SELECT Id FROM "User" WHERE Email = ? AND IsDeleted = 0', (email,)
                ).fetchone()
            if row:
                user_ids.append(row[0])
                continue
        user_ids.append(
            ensure("User", f"demo-user-{email}", {"Name": name, "Email": email, "Username": email})
        )
    for label, converted, default, order in LEAD_STATUSES:
        with org.transaction():
            row = org.conn.execute(
                'SELECT Id FROM "LeadStatus" WHERE MasterLabel = ? AND IsDeleted = 0', (label,)
            ).fetchone()
        if row is None:
            ensure(
                "LeadStatus",
                f"demo-status-{order}",
                {
                    "MasterLabel": label,
                    "IsConverted": converted,
                    "IsDefault": default,
                    "SortOrder": order,
                },
            )
    reps = user_ids[2:] or user_ids
    used_domains = set()
    account_rows = []
    for i in range(accounts):
        while True:
            name = f"{rng.choice(_WORDS)} {rng.choice(_SUFFIX)}"
            domain = name.lower().replace(" ", "") + "." + rng.choice(_TLDS)
            if domain not in used_domains:
                used_domains.add(domain)
                break
        alt = []
        if rng.random() < 0.3:
            alt.append(
                name.split()[0].lower()
                + "-"
                + rng.choice(["eu", "group", "global"])
                + "."
                + rng.choice(_TLDS)
            )
        website = rng.choice([f"https://www.{domain}", f"http://{domain}", f"www.{domain}"])
        owner = rng.choice(reps)
        acc = ensure(
            "Account",
            f"demo-account-{i}",
            {
                "Name": name,
                "Website": website,
                "BillingCity": _CITIES[i % len(_CITIES)],
                "OwnerId": owner,
                "Alternate_Domains__c": "\n".join(alt) or None,
            },
        )
        account_rows.append((acc, domain, owner))
    n = 0
    for acc, domain, owner in account_rows:
        for _ in range(rng.randint(max(contacts_per_account - 2, 0), contacts_per_account + 2)):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            ensure(
                "Contact",
                f"demo-contact-{n}",
                {
                    "FirstName": first,
                    "LastName": last,
                    "Email": f"{first}.{last}{n}@{domain}".lower(),
                    "Title": rng.choice(TITLES),
                    "Phone": f"+1 555 {rng.randint(1000000, 9999999)}",
                    "MailingCountry": rng.choice(COUNTRIES),
                    "AccountId": acc,
                    "OwnerId": owner,
                    "LeadSource": rng.choice(["Web", "Phone Inquiry", "Partner Referral", None]),
                },
            )
            n += 1
    for i in range(leads):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = f"{rng.choice(_WORDS)} {rng.choice(_SUFFIX)}"
        ensure(
            "Lead",
            f"demo-lead-{i}",
            {
                "FirstName": first,
                "LastName": last,
                "Company": company,
                "Email": f"{first}.{last}{i}@{company.lower().replace(' ', '')}.example",
                "Title": rng.choice(TITLES),
                "Country": rng.choice(COUNTRIES),
                "Status": rng.choice(["Open - Not Contacted", "Working - Contacted"]),
                "OwnerId": rng.choice(reps),
            },
        )
    for i in range(opportunities):
        acc, _, owner = rng.choice(account_rows)
        is_open = rng.random() < 0.6
        stage = rng.choice(STAGES_OPEN) if is_open else rng.choice(["Closed Won", "Closed Lost"])
        ensure(
            "Opportunity",
            f"demo-opportunity-{i}",
            {
                "Name": f"Opportunity {i}",
                "StageName": stage,
                "AccountId": acc,
                "OwnerId": owner,
                "CloseDate": (base_date + dt.timedelta(days=rng.randint(0, 540))).isoformat(),
            },
        )
    return created


def _obj(name):
    return OBJECTS[name]
