"""Capture from a real IMAP server (Dovecot, started by tests/servers)."""

import datetime as dt

from accounts.models import Contact
from activities.models import Activity
from integrations.capture.models import CaptureRun, CaptureSource
from integrations.capture.run import capture_run_create, capture_run_execute
from tests.capture import mail
from tests.factories import UserFactory

DAY = dt.timedelta(days=1)


def run(source):
    return capture_run_execute(run=capture_run_create(source=source))


def fill_mailbox(user):
    """A rep's INBOX and Sent as they look after a week of selling."""
    start = mail.recent(days=-3).replace(hour=15, minute=0, second=0)
    inbox = [
        mail.japanese_message(message_id="<jp-1@acme.com>"),
        mail.quoted_printable_alternative(message_id="<de-1@acme.com>"),
        mail.message(
            sender="Marie Dupont <marie.dupont@acme.com>",
            cc=["Paul Martin <paul.martin@acme.com>"],
            subject="Fwd: Tarifs",
            text="Voir ci-dessous.\n\nCordialement\nMarie Dupont\nDirectrice Financière\n"
            "Tél. +33 1 23 45 67 89\n\n---------- Forwarded message ---------\n"
            "From: Someone <someone@acme.com>\nSubject: Tarifs\n\nLes tarifs 2027.\n",
            message_id="<fr-1@acme.com>",
        ),
        mail.message(
            sender="Ana García <ana.garcia@acme.com>",
            subject="Re: Propuesta",
            text="Perfecto, lo vemos el lunes.\n\nSaludos cordiales\nAna García\n"
            "Gerente de Compras\nMóvil: +34 612 345 678\n\n"
            "El lun, 30 nov 2026 a las 9:00, Rex <rex@crmbridge.example> escribió:\n"
            "> ¿Te va bien el lunes?\n",
            message_id="<es-1@acme.com>",
        ),
        mail.invitation(
            uid="kickoff-1@acme.com",
            organizer="juergen.weber@acme.com",
            attendees=[(mail.REP, "ACCEPTED"), ("ana.garcia@acme.com", "TENTATIVE")],
            start=start,
            summary="Kickoff",
        ),
        mail.message(
            sender="Jürgen Weber <juergen.weber@acme.com>",
            subject="Automatische Antwort: Abwesend",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        mail.message(
            sender="news@acme.com",
            subject="Acme newsletter",
            headers={"List-Unsubscribe": "<mailto:leave@acme.com>"},
        ),
        mail.message(sender="Cora <cora@crmbridge.example>", subject="Lunch?"),
        mail.message(sender="counsel@lawfirm.example", subject="Contract review"),
        mail.message(
            sender="ana.garcia@acme.com", subject="Personal", headers={"Sensitivity": "Private"}
        ),
        mail.message(
            sender="ana.garcia@acme.com", subject="Old thread", when=mail.recent(days=200)
        ),
        b"this is not an e-mail message at all",
    ]
    sent = [
        mail.message(
            sender=f"Rex Rep <{mail.REP}>",
            to=["Marie Dupont <marie.dupont@acme.com>"],
            subject="Re: Tarifs",
            text="Merci Marie !\n\nLe 1 déc. 2026 à 10:00, Marie Dupont a écrit :\n> Voir.\n",
            message_id="<sent-1@crmbridge.example>",
        ),
        mail.japanese_message(message_id="<jp-1@acme.com>"),  # the same message, kept in Sent
    ]
    with user.connect() as client:
        for raw in inbox:
            client.append("INBOX", raw, msg_time=dt.datetime.now())
        for raw in sent:
            client.append("Sent", raw, msg_time=dt.datetime.now())
    return len(inbox) + len(sent)


def test_it_captures_a_mailbox_with_people_names_titles_and_skip_reasons(
    imap_source, dovecot_user, rep_user
):
    total = fill_mailbox(dovecot_user)

    result = run(imap_source)

    assert result.state == CaptureRun.State.DONE, result.errors
    assert result.seen == total
    emails = Activity.objects.filter(owner=rep_user, kind="email")
    assert sorted(emails.values_list("external_id", flat=True)) == [
        "de-1@acme.com",
        "es-1@acme.com",
        "fr-1@acme.com",
        "jp-1@acme.com",
        "sent-1@crmbridge.example",
    ]
    assert result.captured == 6  # five e-mails and the meeting of the invitation
    assert result.already_present == 1  # the Japanese message again, from Sent
    assert result.skipped == {
        "auto_reply": 1,
        "bulk": 1,
        "internal_only": 1,
        "excluded": 1,
        "private": 1,
        "too_old": 1,
    }
    assert len(result.errors) == 1 and "could not be read" in result.errors[0]

    japanese = emails.get(external_id="jp-1@acme.com")
    assert japanese.subject == "お見積りの件"
    sender = japanese.participants.get(role="from")
    assert (sender.email, sender.name) == ("taro.yamada@acme.com", "山田 太郎")
    assert (sender.title, sender.phone) == ("営業部長", "+81 3 1234 5678")

    german = emails.get(external_id="de-1@acme.com")
    assert german.subject.startswith("Re: Angebot für die Verlängerung")
    assert german.subject.endswith("Erweiterung um zwei Standorte")
    assert "anbei das unterschriebene Angebot" in german.body
    assert "Hier das Angebot" not in german.body  # the quoted reply is not kept
    assert german.body.endswith("-- \nJürgen Weber\nLeiter Einkauf\nTel. +49 30 1234567\nAcme GmbH")
    sender = german.participants.get(role="from")
    assert (sender.name, sender.title) == ("Weber, Jürgen", "Leiter Einkauf")

    forwarded = emails.get(external_id="fr-1@acme.com")
    assert "Les tarifs 2027" not in forwarded.body
    assert forwarded.participants.get(role="from").title == "Directrice Financière"
    assert forwarded.participants.get(role="cc").name == "Paul Martin"
    spanish = emails.get(external_id="es-1@acme.com").participants.get(role="from")
    assert (spanish.title, spanish.phone) == ("Gerente de Compras", "+34 612 345 678")

    meeting = Activity.objects.get(owner=rep_user, kind="meeting")
    assert meeting.external_id == "kickoff-1@acme.com"
    assert meeting.ends_at - meeting.occurred_at == dt.timedelta(minutes=45)
    answers = dict(meeting.participants.values_list("email", "response"))
    assert answers == {
        "juergen.weber@acme.com": "accepted",
        mail.REP: "accepted",
        "ana.garcia@acme.com": "tentative",
    }
    assert meeting.participants.get(email="juergen.weber@acme.com").role == "organizer"

    # Matching and contact creation follow, as for the API: the signature's title is used.
    assert german.match_status == "matched" and german.account.name == "Acme"
    assert Contact.objects.get(email="juergen.weber@acme.com").title == "Leiter Einkauf"


def test_a_second_run_adds_nothing_and_reads_nothing_again(imap_source, dovecot_user):
    fill_mailbox(dovecot_user)
    first = run(imap_source)
    count = Activity.objects.count()

    second = run(imap_source)

    assert second.state == CaptureRun.State.DONE
    assert (second.seen, second.captured, second.errors) == (0, 0, [])
    assert Activity.objects.count() == count == first.captured


def test_new_mail_after_a_run_is_captured_from_the_watermark(imap_source, dovecot_user):
    fill_mailbox(dovecot_user)
    run(imap_source)
    with dovecot_user.connect() as client:
        client.append("INBOX", mail.message(sender="ana.garcia@acme.com", message_id="<n@a>"))

    later = run(imap_source)

    assert (later.seen, later.captured) == (1, 1)
    assert Activity.objects.filter(external_id="n@a").exists()


def test_a_uidvalidity_change_rereads_the_folder_without_duplicates(
    imap_source, dovecot, dovecot_user
):
    total = fill_mailbox(dovecot_user)
    run(imap_source)
    count = Activity.objects.count()
    with dovecot_user.connect() as client:
        validity = client.select_folder("INBOX")[b"UIDVALIDITY"]
    dovecot.set_uidvalidity(dovecot_user, "INBOX", validity + 100)

    again = run(imap_source)

    inbox_size = total - 2
    assert again.seen == inbox_size  # INBOX read again from the start; Sent unchanged
    assert again.captured == 0
    assert again.already_present == 5  # four e-mails and the invitation's meeting
    assert Activity.objects.count() == count
    assert (
        imap_source.__class__.objects.get(pk=imap_source.pk).state["imap"]["INBOX"]["uidvalidity"]
        == validity + 100
    )


def test_a_wrong_password_is_a_clear_error_on_the_source(imap_source):
    imap_source.secret = "not-the-password"
    imap_source.save()

    failed = run(imap_source)

    imap_source.refresh_from_db()
    assert failed.state == CaptureRun.State.FAILED
    assert "refused the user name or password" in imap_source.last_error
    assert imap_source.username in imap_source.last_error
    assert "not-the-password" not in imap_source.last_error
    assert failed.errors == [imap_source.last_error]
    assert imap_source.running_since is None  # the next run may start


def test_one_message_in_two_reps_mailboxes_is_one_activity_for_each(
    imap_source, dovecot, dovecot_user, rep_user
):
    colleague = UserFactory(username="rita", email="rita@crmbridge.example", role="Rep")
    rita_box = dovecot.add_user()
    shared = mail.message(
        sender="ana.garcia@acme.com",
        to=[mail.REP, "rita@crmbridge.example"],
        subject="Both of you",
        message_id="<both@acme.com>",
    )
    for user in (dovecot_user, rita_box):
        with user.connect() as client:
            client.append("INBOX", shared)
    rita_source = CaptureSource.objects.create(
        kind="imap",
        owner=colleague,
        host=rita_box.host,
        port=rita_box.port,
        security="none",
        username=rita_box.username,
        secret=rita_box.password,
    )

    run(imap_source), run(rita_source), run(imap_source), run(rita_source)

    owners = Activity.objects.filter(external_id="both@acme.com").values_list("owner", flat=True)
    assert sorted(owners) == sorted([rep_user.pk, colleague.pk])


def test_body_capture_follows_global_settings(org, imap_source, dovecot_user):
    text = "Here is the proposal. " * 20 + "\n\nBest regards\nAna García\nCFO\n"
    with dovecot_user.connect() as client:
        client.append(
            "INBOX", mail.message(sender="ana.garcia@acme.com", text=text, message_id="<a@x>")
        )
        client.append(
            "INBOX", mail.message(sender="ana.garcia@acme.com", text=text, message_id="<b@x>")
        )
    org.capture_body, org.capture_body_chars = "first", 30
    org.save()
    run(imap_source)
    with dovecot_user.connect() as client:
        client.append(
            "INBOX", mail.message(sender="ana.garcia@acme.com", text=text, message_id="<c@x>")
        )
    org.capture_body = "none"
    org.save()
    run(imap_source)

    first, nothing = (
        Activity.objects.get(external_id="a@x"),
        Activity.objects.get(external_id="c@x"),
    )
    assert first.body == text[:30]
    assert nothing.body == ""
    # The signature still gives the title when no body is kept.
    assert nothing.participants.get(role="from").title == "CFO"
