"""Demo capture: a folder source for the rep with a few realistic exports (.eml, .mbox, .ics),
captured once, so capture can be seen working without a mail or calendar server.

The files are written under var/capture-demo/ with dates near today (the backfill window is
90 days) and addressed to people at one of the demo org's Accounts."""

import datetime as dt
import mailbox
from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import AccountDomain

from .models import CaptureSource
from .run import capture_run_create, capture_run_execute
from .services import capture_source_create

FOLDER = "capture-demo"
NAME = "Rex's mail export (demo)"


def _message(*, sender, to, subject, text, when, message_id, cc=(), html=None, ics=None):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"], msg["Message-ID"] = format_datetime(when), message_id
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if ics:
        msg.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    return bytes(msg)


def _stamp(when):
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _calendar(*, uid, start, minutes, summary, organizer, attendees, rrule=""):
    people = "".join(f"ATTENDEE;PARTSTAT={a};CN={n}:mailto:{e}\r\n" for e, n, a in attendees)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmbridge demo//EN\r\nMETHOD:REQUEST\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{_stamp(start)}\r\nDTSTART:{_stamp(start)}\r\n"
        f"DTEND:{_stamp(start + dt.timedelta(minutes=minutes))}\r\nSUMMARY:{summary}\r\n"
        + (f"RRULE:{rrule}\r\n" if rrule else "")
        + f"ORGANIZER;CN=Organizer:mailto:{organizer}\r\n{people}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def demo_files(*, rep_email, domain, now):
    """{file name: bytes}: a thread with signatures, a forward, an invitation, a series."""
    jane, tom = f"jane.whitfield@{domain}", f"tom.baker@{domain}"
    day = dt.timedelta(days=1)
    invite = _calendar(
        uid=f"security-review@{domain}",
        start=(now + 2 * day).replace(hour=15, minute=0, second=0, microsecond=0),
        minutes=60,
        summary="Security review",
        organizer=jane,
        attendees=[(rep_email, "Rex", "ACCEPTED"), (tom, "Tom Baker", "TENTATIVE")],
    )
    weekly = _calendar(
        uid=f"weekly-sync@{domain}",
        start=(now - 14 * day).replace(hour=9, minute=30, second=0, microsecond=0),
        minutes=30,
        summary="Weekly implementation sync",
        organizer=rep_email,
        attendees=[(jane, "Jane Whitfield", "ACCEPTED"), (tom, "Tom Baker", "ACCEPTED")],
        rrule="FREQ=WEEKLY;COUNT=6",
    )
    return {
        "2-proposal-reply.eml": _message(
            sender=f"Jane Whitfield <{jane}>",
            to=[rep_email],
            cc=[f"Tom Baker <{tom}>"],
            subject="Re: Proposal for the 2027 renewal",
            text="Hi Rex,\n\nThanks, the proposal looks good. Legal will review the MSA this "
            "week.\n\nBest regards,\nJane Whitfield\nVP Procurement\nPhone: +1 415 555 0142\n\n"
            f"On Mon, Rex <{rep_email}> wrote:\n> Please find the proposal attached.\n",
            html="<p>Hi Rex,</p><p>Thanks, the proposal looks good.</p>",
            when=now - 2 * day,
            message_id=f"<proposal-reply.demo@{domain}>",
        ),
        "3-invitation.eml": _message(
            sender=f"Jane Whitfield <{jane}>",
            to=[rep_email, tom],
            subject="Invitation: Security review",
            text="Jane Whitfield invited you to Security review.",
            when=now - day,
            message_id=f"<security-review.invite@{domain}>",
            ics=invite,
        ),
        "4-weekly-sync.ics": weekly.encode(),
        "auto-reply.eml": _message(
            sender=f"Tom Baker <{tom}>",
            to=[rep_email],
            subject="Out of office",
            text="I am out of the office until Monday.",
            when=now - day,
            message_id=f"<ooo.demo@{domain}>",
        ).replace(b"\nSubject:", b"\nAuto-Submitted: auto-replied\nSubject:", 1),
    }


def _mbox_write(path, messages):
    box = mailbox.mbox(path)
    box.lock()
    try:
        for raw in messages:
            box.add(raw)
    finally:
        box.unlock()
        box.close()


def load_demo(out):
    User = get_user_model()
    rep = User.objects.filter(username="rep").first()
    domain = AccountDomain.objects.order_by("domain").values_list("domain", flat=True).first()
    if rep is None or domain is None:
        out.write("  capture demo skipped: no demo rep or Account domain")
        return
    now = timezone.now()
    folder = settings.VAR_DIR / FOLDER
    folder.mkdir(exist_ok=True)
    # Written once: a second `make demo` finds the same files and captures nothing new.
    for name, data in demo_files(rep_email=rep.email, domain=domain, now=now).items():
        if not (folder / name).exists():
            (folder / name).write_bytes(data)
    if not (folder / "1-first-contact.mbox").exists():
        _mbox_write(
            folder / "1-first-contact.mbox",
            [
                _message(
                    sender=f"Rex Seller <{rep.email}>",
                    to=[f"Jane Whitfield <jane.whitfield@{domain}>"],
                    subject="Proposal for the 2027 renewal",
                    text="Hi Jane,\n\nPlease find the proposal attached.\n\nRegards,\nRex",
                    when=now - 3 * dt.timedelta(days=1),
                    message_id=f"<proposal.demo@{domain}>",
                )
            ],
        )
    source = CaptureSource.objects.filter(owner=rep, kind=CaptureSource.Kind.FOLDER).first()
    if source is None:
        source = capture_source_create(owner=rep, kind="folder", name=NAME, path=str(folder))
    run = capture_run_execute(run=capture_run_create(source=source))
    out.write(
        f"  {source}: {run.seen} files read, {run.captured} captured, {run.updated} updated,"
        f" {run.already_present} already present, skipped {run.skipped or 'none'}"
    )
