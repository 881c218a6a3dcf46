import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from crmbridge.models import GlobalSettings
from integrations.outbox.models import OutboxItem
from integrations.outbox.services import outbox_enqueue
from integrations.sync import schedule as sched
from integrations.sync.models import SyncLock, SyncRun
from integrations.sync.services import (
    LOCK_TTL,
    sync_lock_acquire,
    sync_lock_release,
    sync_run_execute,
)

pytestmark = pytest.mark.django_db


def test_two_runs_never_overlap(sf_client):
    assert sync_lock_acquire(holder="worker-a")
    r = sync_run_execute(kind="sync", trigger="admin")
    assert r.state == "skipped"
    assert "running" in r.message or "Another" in r.message
    assert sync_run_execute(kind="sync", trigger="schedule", record_skips=False) is None
    sync_lock_release(holder="worker-a")
    assert sync_run_execute(kind="sync", trigger="admin").state == "succeeded"


def test_a_dead_workers_lock_expires_and_its_run_is_marked_failed(sf_client):
    dead = SyncRun.objects.create(kind="sync", state="running")
    assert sync_lock_acquire(holder="dead-worker", run=dead)
    assert not sync_lock_acquire(holder="next")
    later = timezone.now() + LOCK_TTL + dt.timedelta(seconds=1)
    assert sync_lock_acquire(holder="next", now=later)
    dead.refresh_from_db()
    assert dead.state == "failed" and "stopped" in dead.message
    assert SyncLock.objects.get().holder == "next"


def test_schedules_are_created_once_and_follow_the_interval(db, django_capture_on_commit_callbacks):
    sched.sync_schedules_ensure()
    sched.sync_schedules_ensure()
    rows = Schedule.objects.filter(name__in=[sched.SYNC_SCHEDULE, sched.PUSH_SCHEDULE])
    assert rows.count() == 2
    assert {s.minutes for s in rows} == {30}
    from crmbridge.services import global_settings_update

    with django_capture_on_commit_callbacks(execute=True):
        global_settings_update(changes={"sync_interval_minutes": 5})
    sync = Schedule.objects.get(name=sched.SYNC_SCHEDULE)
    assert sync.minutes == 5
    assert sync.next_run <= timezone.now() + dt.timedelta(minutes=5)


def test_an_interval_changed_in_the_admin_takes_effect(
    client, admin_member, django_capture_on_commit_callbacks
):
    sched.sync_schedules_ensure()
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_globalsettings_change", args=[GlobalSettings.load().pk])
    data = {
        "contact_creation_enabled": "on",
        "create_as": "contact",
        "internal_domains": "",
        "extra_personal_domains": "",
        "sync_interval_minutes": "10",
        "api_budget_percent": "20",
        "capture_body": "first",
        "capture_body_chars": "2000",
        "capture_exclusions": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    assert Schedule.objects.get(name=sched.SYNC_SCHEDULE).minutes == 10


def test_new_outbox_work_schedules_one_push_soon(db, django_capture_on_commit_callbacks):
    sched.push_soon_forget()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for i in range(3):
            outbox_enqueue(sobject="Account", crmbridge_id=f"a{i}", payload={"Name": "A"})
    soon = Schedule.objects.filter(name=sched.SOON_SCHEDULE)
    assert soon.count() == 1
    assert soon.get().schedule_type == Schedule.ONCE
    assert soon.get().next_run <= timezone.now() + sched.SOON_DELAY
    sched.push_soon_forget()
    assert not sched.push_soon_request()  # one is already waiting
    soon.delete()
    sched.push_soon_forget()
    assert sched.push_soon_request()


def test_the_api_starts_a_run_for_admins_only(api_as, admin_member, rep_user, csm_user, sf_client,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    url = "/api/v1/sync/runs/"
    assert api_as(rep_user).post(url).status_code == 403
    assert api_as(csm_user).post(url).status_code == 403
    assert api_as(None).post(url).status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(admin_member).post(url, {"full": True}, format="json")
    assert response.status_code == 202
    run = SyncRun.objects.get(pk=response.json()["id"])
    assert run.kind == "full" and run.state == "succeeded" and run.started_by == admin_member
    detail = api_as(admin_member).get(f"{url}{run.pk}/").json()
    assert detail["state"] == "succeeded" and detail["errors"] == []
    status = api_as(admin_member).get(f"{url}status/").json()
    assert status["api_usage"]["budget_percent"] == 20


def test_the_command_runs_one_inline_and_prints_a_summary(sf_org, sf_client, capsys):
    sf_org.insert("Account", {"Name": "Acme"})
    call_command("sync_salesforce", "--full")
    out = capsys.readouterr().out
    assert "Sync #" in out and "succeeded" in out
    assert "Account: pulled 1" in out
    assert "pulling Account" in out  # progress line


def test_the_dashboard_shows_runs_usage_backlog_and_charts(client, admin_member, sf_client):
    sync_run_execute(kind="sync", trigger="admin")
    with transaction.atomic():
        outbox_enqueue(sobject="Account", crmbridge_id="x", payload={"Name": "<b>X</b>"})
    OutboxItem.objects.update(state="failed", last_error="<script>alert(1)</script>")
    client.force_login(admin_member)
    response = client.get(reverse("admin:sync_syncrun_dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "Activities per day" in html and "API calls per day" in html
    assert "1 failed" in html
    assert "cdn" not in html.lower()
    index = client.get(reverse("admin:index")).content.decode()
    assert "1 Salesforce write failed" in index


def test_non_admins_cannot_open_the_dashboard_or_sync_now(client, csm_user):
    client.force_login(csm_user)
    assert client.get(reverse("admin:sync_syncrun_dashboard")).status_code == 403
    assert client.post(reverse("admin:sync_syncrun_sync_now")).status_code == 403
    assert client.get(reverse("admin:crmbridge_salesforceconnection_changelist")).status_code == 403
    assert client.post(reverse("admin:crmbridge_salesforceconnection_test")).status_code == 403


def test_sync_now_in_the_admin_runs_a_sync(client, admin_member, sf_client,
                                           django_capture_on_commit_callbacks):  # fmt: skip
    client.force_login(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:sync_syncrun_sync_now"))
    assert response.status_code == 302
    assert SyncRun.objects.get().state == "succeeded"


def test_the_connection_page_never_shows_secrets(client, admin_member):
    import sfemulator
    from integrations.salesforce import SalesforceClient, install_client

    org = sfemulator.Org(":memory:", password="S3cretPa55word", security_token="TOK3NXYZ")
    install_client(SalesforceClient.for_emulator(org, base_delay=0))
    try:
        client.force_login(admin_member)
        html = client.post(
            reverse("admin:crmbridge_salesforceconnection_test"), follow=True
        ).content.decode()
    finally:
        install_client(None)
    assert "connected" in html and org.username in html
    assert "S3cretPa55word" not in html and "TOK3NXYZ" not in html


def test_a_failed_write_is_fixed_and_retried_in_the_admin(client, admin_member, sf_org, sf_client):
    with transaction.atomic():
        item = outbox_enqueue(sobject="Contact", crmbridge_id="c1", payload={"Email": "a@b.com"})
    sync_run_execute(kind="push", trigger="admin")
    item.refresh_from_db()
    assert item.state == "failed"
    client.force_login(admin_member)
    listing = client.get(reverse("admin:integrations_outboxitem_changelist")).content.decode()
    assert "REQUIRED_FIELD_MISSING" in listing and "LastName" in listing
    url = reverse("admin:integrations_outboxitem_change", args=[item.pk])
    response = client.post(url, {"payload": '{"Email": "a@b.com", "LastName": "B"}', "_retry": "1"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "pending"
    sync_run_execute(kind="push", trigger="admin")
    assert sf_org.count("Contact") == 1


def test_a_budget_stop_is_shown_with_its_reason(client, admin_member, sf_org, sf_client):
    sf_org.api_limit = 100
    sf_org.reset_api_usage(20)
    run = sync_run_execute(kind="sync", trigger="admin")
    assert run.state == "budget"
    client.force_login(admin_member)
    index = client.get(reverse("admin:index")).content.decode()
    assert "API budget was reached" in index
