"""Error e-mails of dialer integrations: which call, which result code, what failed, what to fix.

They never carry secrets: no webhook secret, no Salesforce credentials, only the run's own data.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from .models import CallRun, Integration

log = logging.getLogger(__name__)


def run_failure_email_send(*, run: CallRun, integration: Integration | None, fix: str) -> list:
    """E-mail the integration's "Email on Error" recipients about a failed run; returns the
    recipients written to (empty when there are none or sending failed)."""
    recipients = integration.recipients if integration is not None else []
    if not recipients:
        return []
    try:
        admin_path = reverse("admin:dialer_callrun_change", args=[run.pk])
    except NoReverseMatch:
        admin_path = ""
    base = getattr(settings, "CRMBRIDGE_BASE_URL", "").rstrip("/")
    context = {
        "run": run,
        "integration": integration,
        "project": run.project,
        "fix": fix,
        "admin_url": f"{base}{admin_path}" if admin_path else "",
    }
    # One line: a call_id from the dialer may hold line breaks, which a mail header cannot.
    subject = " ".join(render_to_string("dialer/run_failed_subject.txt", context).split())
    text = render_to_string("dialer/run_failed.txt", context)
    html = render_to_string("dialer/run_failed.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:  # noqa: BLE001 - a mail server problem must not lose the run's record
        log.exception("dialer: could not send the error e-mail of run %s", run.pk)
        return []
    return recipients
