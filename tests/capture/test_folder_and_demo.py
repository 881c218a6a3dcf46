"""The folder source (exports on disk), the demo, and `manage.py capture_run`."""

import io

import pytest
from django.core.management import CommandError, call_command

from activities.models import Activity
from integrations.capture import demo
from integrations.capture.models import CaptureRun, CaptureSource
from integrations.capture.run import capture_run_create, capture_run_execute
from tests.capture import mail


def run(source, **kwargs):
    return capture_run_execute(run=capture_run_create(source=source), **kwargs)


@pytest.fixture
def folder_source(org, rep_user, tmp_path):
    return CaptureSource.objects.create(kind="folder", owner=rep_user, path=str(tmp_path))


def test_a_file_is_read_again_only_when_its_content_changed(folder_source, tmp_path):
    (tmp_path / "a.eml").write_bytes(mail.message(sender="ana.garcia@acme.com", message_id="<a@f>"))
    (tmp_path / "notes.txt").write_text("not an export")

    first = run(folder_source)
    again = run(folder_source)
    (tmp_path / "a.eml").write_bytes(
        mail.message(sender="ana.garcia@acme.com", subject="Edited", message_id="<a@f>")
    )
    changed = run(folder_source)

    assert (first.seen, first.captured) == (1, 1)
    assert (again.seen, again.captured, again.already_present) == (1, 0, 1)
    assert (changed.seen, changed.captured, changed.already_present) == (1, 0, 1)
    assert Activity.objects.filter(external_id="a@f").count() == 1


def test_bounded_work_resumes_where_it_stopped(folder_source, tmp_path):
    for n in range(5):
        raw = mail.message(sender="ana.garcia@acme.com", message_id=f"<m{n}@f>")
        (tmp_path / f"{n}.eml").write_bytes(raw)

    first = run(folder_source, limit=3)
    second = run(folder_source, limit=3)

    assert (first.captured, first.more_to_do) == (3, True)
    assert (second.captured, second.already_present, second.more_to_do) == (2, 3, False)


def test_the_demo_adds_a_folder_source_and_captures_it_twice_safely(
    org, rep_user, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    rep_user.username = "rep"
    rep_user.save()
    out = io.StringIO()

    demo.load_demo(out)
    count = Activity.objects.filter(owner=rep_user).count()
    demo.load_demo(out)

    source = CaptureSource.objects.get(owner=rep_user, kind="folder")
    assert sorted(p.name for p in (tmp_path / demo.FOLDER).iterdir()) == [
        "1-first-contact.mbox",
        "2-proposal-reply.eml",
        "3-invitation.eml",
        "4-weekly-sync.ics",
        "auto-reply.eml",
    ]
    kinds = sorted(Activity.objects.filter(owner=rep_user).values_list("kind", flat=True))
    assert kinds.count("email") == 2 and kinds.count("meeting") >= 4
    assert count == len(kinds)
    last = source.runs.first()
    assert (last.captured, last.already_present) == (0, 5)
    reply = Activity.objects.get(external_id="proposal-reply.demo@acme.com")
    assert reply.participants.get(role="from").title == "VP Procurement"


def test_the_command_runs_inline_and_prints_the_summary(folder_source, tmp_path, capsys):
    (tmp_path / "a.eml").write_bytes(mail.message(sender="ana.garcia@acme.com", message_id="<c@f>"))
    (tmp_path / "b.eml").write_bytes(
        mail.message(sender="news@acme.com", headers={"Precedence": "list"})
    )
    out = io.StringIO()

    call_command("capture_run", "--source", str(folder_source.pk), stdout=out)

    text = out.getvalue()
    assert f"(source {folder_source.pk}): Done" in text
    assert "seen 2, captured 1, updated 0, already present 0" in text
    assert "skipped: bulk 1" in text
    assert "item" in capsys.readouterr().err  # the progress bar
    assert CaptureRun.objects.get().state == "done"


def test_the_command_fails_clearly_for_an_unreadable_source(org, rep_user):
    source = CaptureSource.objects.create(kind="folder", owner=rep_user, path="/nonexistent/x")
    out = io.StringIO()

    with pytest.raises(CommandError, match="could not be read"):
        call_command("capture_run", "--source", str(source.pk), "--no-progress", stdout=out)
    assert "/nonexistent/x is not a folder crmbridge can read" in out.getvalue()
    with pytest.raises(CommandError, match="no capture source 999"):
        call_command("capture_run", "--source", "999", stdout=out)
