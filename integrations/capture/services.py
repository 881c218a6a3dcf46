"""Writes of capture: sources (create, change, delete, Test connection) and queued runs.

The run itself is in run.py; tasks.py runs it on django-q2."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django_q.tasks import async_task

from crmbridge.roles import ADMIN, has_role

from .models import CaptureRun, CaptureSource
from .readers import CaptureSourceError, reader_for
from .run import capture_rules_for, capture_run_create
from .schedule import capture_schedule_follow

EDITABLE = (
    "kind",
    "name",
    "host",
    "port",
    "security",
    "username",
    "folders",
    "url",
    "path",
    "enabled",
    "backfill_days",
    "auth",
    "oauth_client_id",
    "oauth_token_url",
)
NEEDS = {
    CaptureSource.Kind.IMAP: ("host", "username"),
    CaptureSource.Kind.CALDAV: ("url",),
    CaptureSource.Kind.ICS_URL: ("url",),
    CaptureSource.Kind.FOLDER: ("path",),
}


def _check_owner(*, actor, owner):
    if actor is not None and not has_role(actor, ADMIN) and owner.pk != actor.pk:
        raise ValidationError({"owner": "You may only connect your own mailbox and calendars."})


def _validate(source):
    missing = [name for name in NEEDS[source.kind] if not getattr(source, name)]
    if missing:
        raise ValidationError(
            {name: f"A {source.get_kind_display()} source needs this." for name in missing}
        )
    if source.auth == CaptureSource.Auth.XOAUTH2 and not source.oauth_token_url:
        raise ValidationError({"oauth_token_url": "XOAUTH2 needs the provider's token endpoint."})
    source.full_clean(exclude=["owner", "state", "secret", "oauth_client_secret"])


@transaction.atomic
def capture_source_create(
    *, actor=None, owner, secret: str = "", oauth_client_secret: str | None = "", **fields
) -> CaptureSource:
    _check_owner(actor=actor, owner=owner)
    source = CaptureSource(
        owner=owner,
        secret=secret or "",
        oauth_client_secret=oauth_client_secret or "",
        **{k: fields[k] for k in EDITABLE if k in fields},
    )
    _validate(source)
    source.save()
    capture_schedule_follow(source=source)
    return source


@transaction.atomic
def capture_source_update(
    *,
    source: CaptureSource,
    actor=None,
    owner=None,
    secret: str | None = None,
    oauth_client_secret: str | None = None,
    **fields,
) -> CaptureSource:
    """Change a source; `secret=None` (and `oauth_client_secret=None`) keeps what is stored.
    A change of where the source reads from starts it again from the beginning (ingestion keeps
    that from doubling)."""
    if owner is not None:
        _check_owner(actor=actor, owner=owner)
        source.owner = owner
    moved = False
    for name in EDITABLE:
        if name in fields and getattr(source, name) != fields[name]:
            moved |= name in {"kind", "host", "port", "username", "url", "path", "folders"}
            setattr(source, name, fields[name])
    if secret is not None:
        source.secret = secret
        # A new password or refresh token: the cached access token belonged to the old one.
        source.oauth_access_token, source.oauth_access_expires = "", None
    if oauth_client_secret is not None:
        source.oauth_client_secret = oauth_client_secret
    if moved:
        source.state = {}
    _validate(source)
    source.save()
    capture_schedule_follow(source=source)
    return source


@transaction.atomic
def capture_source_delete(*, source: CaptureSource) -> None:
    source.enabled = False
    capture_schedule_follow(source=source)
    source.delete()


def capture_source_test(*, source: CaptureSource) -> tuple[bool, str]:
    """Try the source's connection and login: (worked, what happened in words)."""
    rules = capture_rules_for(source=source)
    try:
        message = reader_for(source, since=rules.since).test()
    except CaptureSourceError as exc:
        CaptureSource.objects.filter(pk=source.pk).update(last_error=str(exc))
        return False, str(exc)
    CaptureSource.objects.filter(pk=source.pk).update(last_error="")
    return True, message


def capture_run_request(*, source: CaptureSource) -> CaptureRun:
    """Queue a run of `source` now; a worker picks it up. Returns the queued run."""
    run = capture_run_create(source=source)
    transaction.on_commit(
        lambda: async_task("integrations.capture.tasks.capture_run_task", run.pk, group="capture")
    )
    return run
