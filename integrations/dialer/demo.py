"""Demo data: a dialer project with one integration per action, and a few call results."""

from .models import Action, DialerProject, Integration
from .services import call_result_receive, integration_save, project_create

PROJECT = "Demo outbound"
PERSON = [
    ("first_name", "FirstName"),
    ("last_name", "LastName"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("title", "Title"),
]
ACCOUNT = [("company", "Account", "Name"), ("website", "Account", "Website")]
OPPORTUNITY = [
    ("deal_name", "Opportunity", "Name"),
    ("deal_stage", "Opportunity", "StageName"),
    ("deal_close", "Opportunity", "CloseDate"),
]


def _maps(sobject, pairs):
    return [(d, sobject, s) for d, s in pairs]


INTEGRATIONS = [
    # name, action, result codes, field mappings (dialer field, object, Salesforce field)
    ("Callbacks and not interested: update", Action.UPDATE_ONLY, ["CB", "NI"],
     _maps("Lead", [("title", "Title"), ("phone", "Phone")])
     + _maps("Contact", [("title", "Title"), ("phone", "Phone")])),
    ("New prospects: create a Lead", Action.UPDATE_OR_CREATE_LEAD, ["LEAD"],
     _maps("Lead", PERSON + [("company", "Company")]) + _maps("Contact", PERSON)),
    ("Interested: create a Contact", Action.UPDATE_OR_CREATE_CONTACT, ["YES"],
     _maps("Lead", PERSON) + _maps("Contact", PERSON) + ACCOUNT + OPPORTUNITY),
    ("Qualified: convert the Lead", Action.UPDATE_CONVERT_OR_CREATE_CONTACT, ["CONVERT"],
     _maps("Lead", [("title", "Title")]) + _maps("Contact", PERSON) + ACCOUNT),
]  # fmt: skip

SAMPLE_CALLS = [
    ("demo-call-1", "YES", {
        "first_name": "Grace", "last_name": "Hopper", "email": "grace@cobol-systems.example",
        "phone": "+1 555 0100", "title": "VP Engineering", "company": "Cobol Systems",
        "website": "https://cobol-systems.example", "deal_name": "Cobol Systems: pilot",
        "deal_stage": "Prospecting", "deal_close": "2027-03-31",
    }),
    ("demo-call-2", "LEAD", {
        "first_name": "Alan", "last_name": "Turing", "email": "alan@bletchley.example",
        "company": "Bletchley Analytics", "title": "Head of Research",
    }),
    ("demo-call-3", "VM", {"email": "nobody@voicemail.example"}),
]  # fmt: skip


def load_demo(out):
    project = DialerProject.objects.filter(name=PROJECT).first()
    secret = None
    if project is None:
        project, secret = project_create(name=PROJECT)
    for name, action, codes, mappings in INTEGRATIONS:
        if Integration.objects.filter(project=project, name=name).exists():
            continue  # an admin may have edited it: leave it as it is
        integration_save(
            integration=Integration(
                project=project, name=name, action=action, email_on_error="admin@crmbridge.example"
            ),
            result_codes=codes,
            secondary_keys=[{"dialer_field": "email", "salesforce_field": "Email"}],
            field_mappings=[
                {"dialer_field": d, "sobject": o, "salesforce_field": s} for d, o, s in mappings
            ],
        )
    # The sample calls run when the django-q2 cluster starts (a call_id is received only once).
    for call_id, code, record in SAMPLE_CALLS:
        call_result_receive(project=project, call_id=call_id, result_code=code, record=record)
    out.write(
        f"  dialer project {project.name!r} (id {project.pk}): result codes YES, LEAD, CB, NI, "
        "CONVERT; webhook POST /api/v1/dialer/call-results/"
    )
    if secret:
        out.write(f"  webhook secret (shown this once; rotate it in the admin): {secret}")
