"""/api/v1/capture/: sources (CRUD, write-only secret), runs (202, then state and counts)."""

import pytest
from django.db import connection

from crmbridge.crypto import decrypt
from integrations.capture.models import CaptureSource
from tests.capture import mail

SOURCES = "/api/v1/capture/sources/"


def imap_body(user, **extra):
    return {
        "kind": "imap",
        "host": user.host,
        "port": user.port,
        "security": "none",
        "username": user.username,
        "secret": user.password,
        **extra,
    }


def test_anonymous_gets_401(api_as, db):
    assert api_as(None).get(SOURCES).status_code == 401
    assert api_as(None).get("/api/v1/capture/runs/1/").status_code == 401


def test_a_csm_has_no_access(api_as, csm_user):
    assert api_as(csm_user).get(SOURCES).status_code == 403


def test_a_rep_connects_their_own_mailbox_and_the_secret_is_never_returned(
    api_as, rep_user, dovecot_user, org
):
    client = api_as(rep_user)
    created = client.post(SOURCES, imap_body(dovecot_user), format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner"] == rep_user.email and body["has_secret"] is True
    assert "secret" not in body and dovecot_user.password not in created.content.decode()
    row = CaptureSource.objects.get(pk=body["id"])
    assert row.secret == dovecot_user.password
    listed = client.get(SOURCES).json()["results"]
    assert [s["id"] for s in listed] == [body["id"]]
    assert dovecot_user.password not in client.get(SOURCES).content.decode()


def test_the_secret_is_encrypted_at_rest(rep_user, org):
    source = CaptureSource.objects.create(
        kind="imap", owner=rep_user, host="h", username="u", secret="hunter2-secret"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM capture_capturesource WHERE id = %s", [source.pk])
        (stored,) = cursor.fetchone()
    assert "hunter2" not in stored
    assert decrypt(stored) == "hunter2-secret"


def test_a_rep_never_sees_or_touches_another_reps_source(api_as, rep_user, other_rep, org):
    theirs = CaptureSource.objects.create(kind="ics_url", owner=other_rep, url="http://x.test/")
    client = api_as(rep_user)

    assert client.get(SOURCES).json()["results"] == []
    assert client.get(f"{SOURCES}{theirs.pk}/").status_code == 404
    assert (
        client.patch(f"{SOURCES}{theirs.pk}/", {"enabled": False}, format="json").status_code == 404
    )
    assert client.post(f"{SOURCES}{theirs.pk}/runs/").status_code == 404
    made = client.post(
        SOURCES,
        {"kind": "ics_url", "url": "http://x.test/", "owner": other_rep.email},
        format="json",
    )
    assert made.status_code == 400 and "own" in str(made.json())


def test_an_admin_manages_any_reps_source(api_as, admin_member, rep_user, org):
    made = api_as(admin_member).post(
        SOURCES,
        {"kind": "ics_url", "url": "http://cal.test/f.ics", "owner": rep_user.email},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert CaptureSource.objects.get(pk=made.json()["id"]).owner == rep_user


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "imap", "username": "u"}, "host"),
        ({"kind": "caldav"}, "url"),
        ({"kind": "ics_url", "url": "file:///etc/passwd"}, "url"),
        ({"kind": "folder", "path": "/etc"}, "kind"),
        ({"kind": "imap", "host": "a\x00b", "username": "u"}, "host"),
        ('{"kind": "imap", "host": "\\ud800", "username": "u"}', "host"),
        ({"kind": "imap", "host": "h", "username": "u", "port": 70000}, "port"),
        ({"kind": "ics_url", "url": "http://x.test/", "folders": "INBOX"}, "folders"),
        ({"kind": "ics_url", "url": "http://x.test/", "backfill_days": 0}, "backfill_days"),
        ({"kind": "pop3"}, "kind"),
    ],
)
def test_bad_input_is_a_clear_400(api_as, rep_user, org, body, field):
    if isinstance(body, str):  # JSON text: a lone surrogate cannot be encoded otherwise
        answer = api_as(rep_user).post(SOURCES, body, content_type="application/json")
    else:
        answer = api_as(rep_user).post(SOURCES, body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()


def test_a_run_is_started_with_202_and_reports_its_counts(
    api_as, rep_user, dovecot_user, org, django_capture_on_commit_callbacks
):
    with dovecot_user.connect() as imap:
        imap.append("INBOX", mail.message(sender="ana.garcia@acme.com", message_id="<r@a>"))
        imap.append("INBOX", mail.message(sender="news@acme.com", headers={"Precedence": "bulk"}))
    client = api_as(rep_user)
    source = client.post(SOURCES, imap_body(dovecot_user), format="json").json()

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{SOURCES}{source['id']}/runs/")

    assert started.status_code == 202
    run = client.get(f"/api/v1/capture/runs/{started.json()['id']}/").json()
    assert run["state"] == "done"
    assert (run["seen"], run["captured"], run["skipped"]) == (2, 1, {"bulk": 1})
    assert client.get(SOURCES).json()["results"][0]["last_run"] == run["id"]


def test_test_connection_says_what_went_wrong(api_as, rep_user, dovecot_user, org):
    client = api_as(rep_user)
    source = client.post(SOURCES, imap_body(dovecot_user, secret="wrong"), format="json").json()

    answer = client.post(f"{SOURCES}{source['id']}/test-connection/").json()

    assert answer["ok"] is False and "refused the user name or password" in answer["message"]
    client.patch(f"{SOURCES}{source['id']}/", {"secret": dovecot_user.password}, format="json")
    answer = client.post(f"{SOURCES}{source['id']}/test-connection/").json()
    assert answer == {"ok": True, "message": "Connected. INBOX: 0 messages, Sent: 0 messages."}


def test_global_settings_carry_body_capture_and_the_exclusion_list(api_as, admin_member):
    client = api_as(admin_member)
    changed = client.patch(
        "/api/v1/settings/",
        {"capture_body": "none", "capture_exclusions": ["lawfirm.example", "hr@acme.com"]},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["capture_exclusions"] == ["lawfirm.example", "hr@acme.com"]
    bad = client.patch("/api/v1/settings/", {"capture_exclusions": ["not a domain"]}, format="json")
    assert bad.status_code == 400 and "capture_exclusions" in bad.json()
