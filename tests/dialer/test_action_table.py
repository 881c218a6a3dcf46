"""Every cell of PRODUCT.md's action table, through the webhook, against the emulated org."""

import pytest

from integrations.dialer.models import Action

pytestmark = pytest.mark.django_db

ALL_ACTIONS = list(Action.values)
CALL = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@navy.example",
    "phone": "+1 555 0100",
    "title": "Rear Admiral",
    "company": "US Navy",
    "website": "https://navy.example",
}


def plant_lead(sf_org, **extra):
    return sf_org.insert(
        "Lead",
        {"FirstName": "G", "LastName": "Hopper", "Company": "Navy", "Email": CALL["email"]} | extra,
    )


def plant_contact(sf_org, **extra):
    return sf_org.insert("Contact", {"LastName": "Hopper", "Email": CALL["email"]} | extra)


def by_id(sf_org, sobject, record_id):
    return next(r for r in sf_org.rows(sobject) if r["Id"] == record_id)


# -- one match: update it (every action; Lead or Contact) ---------------------------------------
@pytest.mark.parametrize(
    "action", [a for a in ALL_ACTIONS if a != Action.UPDATE_CONVERT_OR_CREATE_CONTACT]
)
@pytest.mark.parametrize("sobject", ["Lead", "Contact"])
@pytest.mark.parametrize("how", ["salesforce_id", "secondary_keys"])
def test_it_updates_the_one_match(
    action, sobject, how, sf_org, make_integration, post_call, run_of
):
    make_integration(action)
    record_id = plant_lead(sf_org) if sobject == "Lead" else plant_contact(sf_org)
    record = dict(CALL, title="Commodore")
    if how == "salesforce_id":
        record["salesforce_id"] = record_id
        record["email"] = "someone.else@navy.example"  # the Id wins over the keys

    response = post_call("YES", record)

    assert response.status_code == 202
    run = run_of(response)
    assert run["status"] == "succeeded", run["error"]
    assert run["salesforce_records"] == [
        {"object": sobject, "id": record_id, "operation": "updated"}
    ]
    assert by_id(sf_org, sobject, record_id)["Title"] == "Commodore"
    assert sf_org.count("Lead") + sf_org.count("Contact") == 1


@pytest.mark.parametrize("how", ["salesforce_id", "secondary_keys"])
def test_convert_action_updates_a_matched_contact(how, sf_org, make_integration, post_call, run_of):
    make_integration(Action.UPDATE_CONVERT_OR_CREATE_CONTACT)
    contact_id = plant_contact(sf_org)
    record = dict(CALL, title="Commodore")
    if how == "salesforce_id":
        record["salesforce_id"] = contact_id

    run = run_of(post_call("YES", record))

    assert run["status"] == "succeeded", run["error"]
    assert by_id(sf_org, "Contact", contact_id)["Title"] == "Commodore"
    assert sf_org.count("Contact") == 1 and sf_org.count("Account") == 0


@pytest.mark.parametrize("how", ["salesforce_id", "secondary_keys"])
def test_convert_action_converts_a_matched_lead_and_applies_the_contact_mapping(
    how, sf_org, make_integration, post_call, run_of
):
    make_integration(
        Action.UPDATE_CONVERT_OR_CREATE_CONTACT,
        lead=[("title", "Title")],
        contact=[("phone", "Phone"), ("title", "Title")],
    )
    lead_id = plant_lead(sf_org, Title="Captain")
    record = dict(CALL, title="Commodore")
    if how == "salesforce_id":
        record["salesforce_id"] = lead_id

    run = run_of(post_call("YES", record))

    assert run["status"] == "succeeded", run["error"]
    lead = by_id(sf_org, "Lead", lead_id)
    assert lead["IsConverted"] and lead["Status"] == "Closed - Converted"
    contact = by_id(sf_org, "Contact", lead["ConvertedContactId"])
    assert contact["Phone"] == CALL["phone"] and contact["Title"] == "Commodore"
    assert {(r["object"], r["operation"]) for r in run["salesforce_records"]} == {
        ("Lead", "converted"),
        ("Contact", "updated"),
        ("Account", "updated"),
    }
    assert by_id(sf_org, "Account", lead["ConvertedAccountId"])["Website"] == CALL["website"]
    assert sf_org.count("Opportunity") == 0


def test_converting_links_the_lead_to_the_account_with_its_company_name(
    sf_org, make_integration, post_call, run_of
):
    make_integration(Action.UPDATE_CONVERT_OR_CREATE_CONTACT)
    account_id = sf_org.insert("Account", {"Name": "US Navy"})
    lead_id = plant_lead(sf_org, Company="US Navy")

    run = run_of(post_call("YES", CALL))

    assert run["status"] == "succeeded", run["error"]
    assert by_id(sf_org, "Lead", lead_id)["ConvertedAccountId"] == account_id
    assert sf_org.count("Account") == 1


# -- no match -------------------------------------------------------------------------------------
def test_update_only_with_no_match_fails_and_emails(
    sf_org, make_integration, post_call, run_of, mailoutbox
):
    make_integration(Action.UPDATE_ONLY)

    run = run_of(post_call("YES", CALL, call_id="C-404"))

    assert run["status"] == "failed"
    assert "No Lead or Contact" in run["error"]
    assert sf_org.count("Lead") + sf_org.count("Contact") == 0
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ops@crmbridge.example"]
    assert "C-404" in mail.subject and "YES" in mail.body and "What to fix" in mail.body
    assert run["emails_sent"][0]["to"] == ["ops@crmbridge.example"]


def test_create_lead_with_no_match_creates_a_lead_and_discards_account_data(
    sf_org, make_integration, post_call, run_of
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD, opportunity=[("deal", "Name")])

    run = run_of(post_call("YES", dict(CALL, deal="Navy deal")))

    assert run["status"] == "succeeded", run["error"]
    (lead,) = sf_org.rows("Lead")
    assert (lead["LastName"], lead["Company"], lead["Email"]) == (
        "Hopper",
        "US Navy",
        CALL["email"],
    )
    assert lead["Crmbridge_Id__c"] == f"dialer-{run['id']}-lead"
    assert sf_org.count("Account") == sf_org.count("Opportunity") == sf_org.count("Contact") == 0
    assert "discarded" in run["outcome"]


@pytest.mark.parametrize(
    "action", [Action.UPDATE_OR_CREATE_CONTACT, Action.UPDATE_CONVERT_OR_CREATE_CONTACT]
)
def test_create_contact_with_no_match_creates_contact_account_and_opportunity(
    action, sf_org, make_integration, post_call, run_of
):
    make_integration(
        action,
        opportunity=[("deal", "Name"), ("stage", "StageName"), ("close", "CloseDate")],
    )
    record = dict(CALL, deal="Navy deal", stage="Prospecting", close="2027-01-31")

    run = run_of(post_call("YES", record))

    assert run["status"] == "succeeded", run["error"]
    (account,) = sf_org.rows("Account")
    (contact,) = sf_org.rows("Contact")
    (opportunity,) = sf_org.rows("Opportunity")
    assert account["Name"] == "US Navy" and account["Website"] == CALL["website"]
    assert contact["AccountId"] == account["Id"] and contact["Email"] == CALL["email"]
    assert contact["Crmbridge_Id__c"] == f"dialer-{run['id']}-contact"
    assert opportunity["AccountId"] == account["Id"] and opportunity["Name"] == "Navy deal"
    assert sf_org.count("Lead") == 0


def test_create_contact_finds_the_account_by_name_and_updates_its_one_open_opportunity(
    sf_org, make_integration, post_call, run_of
):
    make_integration(
        Action.UPDATE_OR_CREATE_CONTACT,
        opportunity=[("stage", "StageName")],
    )
    older = sf_org.insert("Account", {"Name": "US Navy"})
    sf_org.insert("Account", {"Name": "US Navy"})  # a later duplicate: the earliest wins
    opp = sf_org.insert(
        "Opportunity",
        {
            "Name": "Fleet",
            "StageName": "Prospecting",
            "CloseDate": "2027-01-01",
            "AccountId": older,
        },
    )

    run = run_of(post_call("YES", dict(CALL, stage="Qualification")))

    assert run["status"] == "succeeded", run["error"]
    (contact,) = sf_org.rows("Contact")
    assert contact["AccountId"] == older
    assert by_id(sf_org, "Opportunity", opp)["StageName"] == "Qualification"
    assert sf_org.count("Opportunity") == 1 and sf_org.count("Account") == 2
    assert by_id(sf_org, "Account", older)["Website"] == CALL["website"]


def test_create_contact_makes_a_new_opportunity_when_the_account_has_none_open(
    sf_org, make_integration, post_call, run_of
):
    make_integration(
        Action.UPDATE_OR_CREATE_CONTACT,
        opportunity=[("deal", "Name"), ("stage", "StageName"), ("close", "CloseDate")],
    )
    account = sf_org.insert("Account", {"Name": "US Navy"})
    sf_org.insert(
        "Opportunity",
        {
            "Name": "Lost",
            "StageName": "Closed Lost",
            "CloseDate": "2026-01-01",
            "AccountId": account,
        },
    )

    run = run_of(
        post_call("YES", dict(CALL, deal="New deal", stage="Prospecting", close="2027-02-01"))
    )

    assert run["status"] == "succeeded", run["error"]
    assert sorted(o["Name"] for o in sf_org.rows("Opportunity")) == ["Lost", "New deal"]


# -- more than one match: fail, e-mail, write nothing ---------------------------------------------
@pytest.mark.parametrize("action", ALL_ACTIONS)
@pytest.mark.parametrize("planted", ["two_leads", "two_contacts", "lead_and_contact"])
def test_more_than_one_match_fails_and_writes_nothing(
    action, planted, sf_org, sf_client, make_integration, post_call, run_of, mailoutbox
):
    make_integration(action)
    if planted == "two_leads":
        plant_lead(sf_org), plant_lead(sf_org)
    elif planted == "two_contacts":
        plant_contact(sf_org), plant_contact(sf_org)
    else:
        plant_lead(sf_org), plant_contact(sf_org)
    before = {o: sf_org.rows(o) for o in ("Lead", "Contact", "Account", "Opportunity")}
    sf_client.limits()  # logged in: every call below is the run's own
    sf_org.stats.reset()

    run = run_of(post_call("YES", dict(CALL, title="Commodore")))

    assert run["status"] == "failed"
    assert "More than one" in run["error"]
    assert run["salesforce_records"] == []
    assert {o: sf_org.rows(o) for o in before} == before
    writes = [k for k in sf_org.stats.calls if not k.startswith("GET")]
    assert writes == []
    assert len(mailoutbox) == 1 and "More than one" in mailoutbox[0].body
