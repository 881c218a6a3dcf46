"""Messages built the way mail programs write them, as bytes to APPEND or drop in a folder."""

import datetime as dt
import quopri
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

REP = "rex@crmbridge.example"


def recent(days=1, hours=0):
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=days, hours=hours)


def message(
    *,
    sender,
    to=(REP,),
    cc=(),
    subject="Hello",
    text="Hello",
    html=None,
    when=None,
    message_id=None,
    headers=None,
    charset="utf-8",
):
    """An e-mail as bytes: plain text, or multipart/alternative with `html`."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or recent())
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text, charset=charset)
    if html:
        msg.add_alternative(html, subtype="html")
    return bytes(msg)


def japanese_message(*, message_id, when=None):
    """ISO-2022-JP headers and body, the way Japanese mail clients still send them."""
    body = (
        "山田です。\n\n資料を送ります。\n\nよろしくお願いいたします。\n"
        "山田 太郎\n営業部長\nTel: +81 3 1234 5678\n"
    )
    msg = MIMEText(body, "plain", "iso-2022-jp")
    msg["From"] = formataddr((str(Header("山田 太郎", "iso-2022-jp")), "taro.yamada@acme.com"))
    msg["To"] = REP
    msg["Subject"] = Header("お見積りの件", "iso-2022-jp").encode()
    msg["Date"] = format_datetime(when or recent())
    msg["Message-ID"] = message_id
    return msg.as_bytes()


def quoted_printable_alternative(*, message_id):
    """multipart/alternative: a quoted-printable plain part and a base64 HTML part, a UTF-8
    encoded-word display name, a folded Subject, a German signature and a quoted reply."""
    text = (
        "Hallo Rex,\n\nanbei das unterschriebene Angebot für Q3. Können wir nächste Woche "
        "telefonieren?\n\nMit freundlichen Grüßen\nJürgen Weber\nLeiter Einkauf\n"
        "Tel. +49 30 1234567\nAcme GmbH\n\n"
        "Am 01.12.2026 um 10:00 schrieb Rex Rep <rex@crmbridge.example>:\n> Hier das Angebot.\n"
    )
    outer = MIMEMultipart("alternative")
    plain = MIMEText(text, "plain", "utf-8")
    plain.replace_header("Content-Transfer-Encoding", "quoted-printable")
    plain.set_payload(quopri.encodestring(text.encode()).decode())
    outer.attach(plain)
    outer.attach(MIMEText("<p>" + text.replace("\n", "<br>") + "</p>", "html", "utf-8"))
    outer["From"] = formataddr((str(Header("Weber, Jürgen", "utf-8")), "juergen.weber@acme.com"))
    outer["To"] = REP
    outer["Subject"] = (
        "Re: Angebot für die Verlängerung des Rahmenvertrags 2027 und die Erweiterung\r\n"
        " um zwei Standorte"
    )
    outer["Date"] = format_datetime(recent(hours=3))
    outer["Message-ID"] = message_id
    return outer.as_bytes()


def invitation(*, uid, organizer, attendees, start, minutes=45, method="REQUEST", summary="Demo"):
    """An invitation as mail programs send it: text/plain plus text/calendar."""
    ics = calendar(
        f"METHOD:{method}\r\n",
        event(
            uid=uid,
            start=start,
            minutes=minutes,
            summary=summary,
            organizer=organizer,
            attendees=attendees,
            status="CANCELLED" if method == "CANCEL" else "CONFIRMED",
        ),
    )
    msg = EmailMessage()
    msg["From"] = organizer
    msg["To"] = ", ".join(a for a, _ in attendees)
    msg["Subject"] = f"Invitation: {summary}"
    msg["Date"] = format_datetime(recent())
    msg["Message-ID"] = f"<{uid}.invite.{method}@mail.example>"
    msg.set_content(f"You are invited to {summary}.")
    msg.add_alternative(ics, subtype="calendar", params={"method": method})
    return bytes(msg)


def stamp(when):
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def event(
    *,
    uid,
    start,
    minutes=45,
    summary="Meeting",
    organizer=None,
    attendees=(),
    status="CONFIRMED",
    extra="",
    recurrence_id=None,
    sequence=0,
):
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp(recent())}",
        f"DTSTART:{stamp(start)}",
        f"DTEND:{stamp(start + dt.timedelta(minutes=minutes))}",
        f"SUMMARY:{summary}",
        f"STATUS:{status}",
        f"SEQUENCE:{sequence}",
    ]
    if recurrence_id is not None:
        lines.append(f"RECURRENCE-ID:{stamp(recurrence_id)}")
    if organizer:
        lines.append(f"ORGANIZER;CN=Organizer:mailto:{organizer}")
    for address, answer in attendees:
        lines.append(f"ATTENDEE;PARTSTAT={answer};RSVP=TRUE:mailto:{address}")
    lines += [line for line in extra.split("\r\n") if line]
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


def calendar(*parts):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmbridge tests//EN\r\n"
        + "".join(parts)
        + "END:VCALENDAR\r\n"
    )
