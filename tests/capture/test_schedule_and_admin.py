"""Schedules per enabled source, no overlap for one source, and the admin's role rules."""

from django.utils import timezone
from django_q.models import Schedule

from integrations.capture import tasks
from integrations.capture.models import CaptureRun, CaptureSource
from integrations.capture.run import capture_run_create, capture_run_execute
from integrations.capture.schedule import schedule_name
from integrations.capture.services import (
    capture_source_create,
    capture_source_delete,
    capture_source_update,
)
from tests.capture import mail


def test_each_enabled_source_has_a_schedule_at_the_sync_interval(org, rep_user):
    org.sync_interval_minutes = 15
    org.save()
    source = capture_source_create(owner=rep_user, kind="ics_url", url="http://cal.test/a.ics")

    schedule = Schedule.objects.get(name=schedule_name(source.pk))
    assert (schedule.func, schedule.minutes, schedule.args) == (
        "integrations.capture.tasks.capture_scheduled",
        15,
        f"({source.pk},)",
    )
    capture_source_update(source=source, enabled=False)
    assert not Schedule.objects.filter(name=schedule_name(source.pk)).exists()
    capture_source_update(source=source, enabled=True)
    capture_source_delete(source=source)
    assert not Schedule.objects.filter(name=schedule_name(source.pk)).exists()


def test_a_source_already_being_captured_is_not_captured_twice_at_once(org, rep_user, tmp_path):
    (tmp_path / "a.eml").write_bytes(mail.message(sender="ana.garcia@acme.com"))
    source = CaptureSource.objects.create(
        kind="folder", owner=rep_user, path=str(tmp_path), running_since=timezone.now()
    )

    blocked = capture_run_execute(run=capture_run_create(source=source))

    assert blocked.state == CaptureRun.State.FAILED
    assert "still running" in blocked.errors[0]
    assert blocked.seen == 0


def test_the_scheduled_task_continues_while_more_is_waiting(org, rep_user, tmp_path, monkeypatch):
    for n in range(3):
        raw = mail.message(sender="ana.garcia@acme.com", message_id=f"<s{n}@f>")
        (tmp_path / f"{n}.eml").write_bytes(raw)
    source = CaptureSource.objects.create(kind="folder", owner=rep_user, path=str(tmp_path))
    monkeypatch.setattr(
        tasks, "capture_run_execute", lambda run: capture_run_execute(run=run, limit=2)
    )

    tasks.capture_scheduled(source.pk)  # django-q2 runs the follow-up inline in tests

    runs = list(source.runs.order_by("pk").values_list("captured", "more_to_do"))
    assert runs == [(2, True), (1, False)]


def test_a_rep_sees_only_their_own_sources_in_the_admin(
    client, org, rep_user, other_rep, dovecot_user
):
    mine = CaptureSource.objects.create(
        kind="imap",
        owner=rep_user,
        name="My mailbox",
        host=dovecot_user.host,
        port=dovecot_user.port,
        security="none",
        username=dovecot_user.username,
        secret="wrong-password",
    )
    theirs = CaptureSource.objects.create(
        kind="ics_url", owner=other_rep, name="Rita's feed", url="http://x.test/"
    )
    client.force_login(rep_user)

    listing = client.get("/admin/capture/capturesource/")
    assert listing.status_code == 200
    assert "My mailbox" in listing.content.decode()
    assert "Rita&#x27;s feed" not in listing.content.decode()
    assert client.get(f"/admin/capture/capturesource/{theirs.pk}/change/").status_code == 302
    assert client.get(f"/admin/capture/capturesource/{theirs.pk}/test/").status_code == 404

    page = client.get(f"/admin/capture/capturesource/{mine.pk}/change/").content.decode()
    assert "wrong-password" not in page and "Test connection" in page
    tested = client.get(f"/admin/capture/capturesource/{mine.pk}/test/", follow=True)
    assert "refused the user name or password" in tested.content.decode()


def test_a_csm_cannot_open_capture_in_the_admin(client, csm_user):
    client.force_login(csm_user)
    assert client.get("/admin/capture/capturesource/").status_code == 403
