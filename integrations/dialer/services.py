"""Writes of the dialer app: projects and their secrets, integrations, receiving call results,
running and retrying them."""

from __future__ import annotations

import contextlib
import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from accounts.signals import mirror_records_stale
from crmbridge.boundary import storable_copy, text_problem
from crmbridge.locks import named_lock
from integrations.salesforce import (
    BudgetExceeded,
    LimitExceeded,
    PermanentError,
    SalesforceError,
    TransientError,
    get_client,
)

from . import selectors
from .emails import run_failure_email_send
from .models import (
    CallRun,
    DialerProject,
    FieldMapping,
    Integration,
    ResultCode,
    SecondaryKey,
    new_secret,
    result_code_normal,
    secret_hash,
)
from .run import RunFailed, Runner, mandatory_gaps, objects_created

log = logging.getLogger(__name__)


# -- projects ---------------------------------------------------------------------------------
def project_create(*, name: str) -> tuple[DialerProject, str]:
    """Create a project; returns it and its webhook secret (shown once, never stored)."""
    secret = new_secret()
    project = DialerProject(name=name, secret_hash=secret_hash(secret))
    project.full_clean()
    project.save()
    return project, secret


def project_secret_rotate(*, project: DialerProject) -> str:
    """Give the project a new webhook secret (the old one stops working at once)."""
    secret = new_secret()
    project.secret_hash = secret_hash(secret)
    project.secret_rotated_at = timezone.now()
    project.save(update_fields=["secret_hash", "secret_rotated_at"])
    return secret


# -- integrations -----------------------------------------------------------------------------
def result_code_conflict_message(code: str, integration_name: str) -> str:
    return (
        f"Result code '{code}' already triggers integration '{integration_name}' in this "
        "project; a code can trigger only one integration."
    )


@transaction.atomic
def integration_save(
    *,
    integration: Integration,
    result_codes: list[str] | None = None,
    secondary_keys: list[dict] | None = None,
    field_mappings: list[dict] | None = None,
) -> Integration:
    """Save an integration and replace the children given (None leaves them as they are).
    Raises ValidationError naming the integration that already has a result code."""
    integration.full_clean()
    # The children are replaced in bulk (no history rows of their own): the audit trail reads
    # what they became on the integration's row.
    replaced = [
        f"{label}: {', '.join(str(v) for v in values) or 'none'}"
        for label, values in (
            ("result codes", result_codes),
            ("secondary keys", [k.get("dialer_field") for k in secondary_keys or []]
             if secondary_keys is not None else None),
            ("mapped fields", [m.get("salesforce_field") for m in field_mappings or []]
             if field_mappings is not None else None),
        )
        if values is not None
    ]  # fmt: skip
    if replaced:
        integration._change_reason = "; ".join(replaced)[:100]
    integration.save()
    if result_codes is not None:
        codes = list(dict.fromkeys(result_code_normal(c) for c in result_codes))
        codes = [c for c in codes if c]
        conflicts = selectors.result_code_conflicts(
            project_id=integration.project_id, codes=codes, exclude_integration_id=integration.pk
        )
        if conflicts:
            raise ValidationError(
                {"result_codes": [result_code_conflict_message(c, n) for c, n in conflicts.items()]}
            )
        integration.result_codes.exclude(code__in=codes).delete()
        have = set(integration.result_codes.values_list("code", flat=True))
        try:
            with transaction.atomic():
                ResultCode.objects.bulk_create(
                    ResultCode(project_id=integration.project_id, integration=integration, code=c)
                    for c in codes
                    if c not in have
                )
        except IntegrityError:
            # Another request took a code between the check and the insert.
            conflicts = selectors.result_code_conflicts(
                project_id=integration.project_id,
                codes=codes,
                exclude_integration_id=integration.pk,
            )
            raise ValidationError(
                {"result_codes": [result_code_conflict_message(c, n) for c, n in conflicts.items()]
                 or ["A result code is already used in this project."]}
            ) from None  # fmt: skip
        # A project change moves the codes with the integration.
        integration.result_codes.exclude(project_id=integration.project_id).update(
            project_id=integration.project_id
        )
    if secondary_keys is not None:
        integration.secondary_keys.all().delete()
        keys = [
            SecondaryKey(integration=integration, position=i, **k)
            for i, k in enumerate(secondary_keys)
        ]
        for key in keys:
            key.full_clean(exclude=["integration"])
        SecondaryKey.objects.bulk_create(keys)
    if field_mappings is not None:
        integration.field_mappings.all().delete()
        maps = [FieldMapping(integration=integration, **m) for m in field_mappings]
        seen = set()
        for m in maps:
            m.full_clean(exclude=["integration"], validate_unique=False)
            if (m.sobject, m.salesforce_field.lower()) in seen:
                raise ValidationError(
                    {"field_mappings": f"{m.sobject}.{m.salesforce_field} is mapped twice."}
                )
            seen.add((m.sobject, m.salesforce_field.lower()))
        FieldMapping.objects.bulk_create(maps)
    return integration


def integration_warnings(*, integration: Integration) -> list[str]:
    """Why the integration's create action cannot succeed: mandatory Salesforce fields of the
    objects it creates that have no mapping (describe says which are mandatory)."""
    objects = objects_created(integration)
    if not objects:
        return []
    try:
        client = get_client()
        mapped: dict[str, set] = {}
        for m in integration.field_mappings.all():
            mapped.setdefault(m.sobject, set()).add(m.salesforce_field)
        warnings = []
        for sobject in objects:
            unmapped, _ = mandatory_gaps(
                client, sobject, dict.fromkeys(mapped.get(sobject, ())), {}
            )
            if unmapped:
                warnings.append(
                    f"Creating a {sobject} will fail: Salesforce requires {', '.join(unmapped)}, "
                    "which no field mapping sets."
                )
        return warnings
    except SalesforceError as exc:
        return [f"Could not check Salesforce's mandatory fields ({exc.message})."]


# -- call results -----------------------------------------------------------------------------
def call_result_receive(
    *, project: DialerProject, call_id: str, result_code: str, record: dict
) -> tuple[CallRun, bool]:
    """Record a call result and run its integration at once (in a task, after commit).
    Returns (run, created); the same call_id again returns the existing run and runs nothing."""
    call_id = str(call_id).strip()
    result_code = str(result_code).strip()
    existing = CallRun.objects.filter(project=project, call_id=call_id).first()
    if existing is not None:
        return existing, False
    integration = selectors.integration_for_code(project_id=project.pk, code=result_code)
    run = CallRun(
        project=project,
        call_id=call_id,
        result_code=result_code,
        payload=record or {},
        integration=integration,
        action=integration.action if integration else "",
    )
    if integration is None or not integration.active:
        run.status = CallRun.Status.NO_INTEGRATION
        run.outcome = (
            f"No integration has result code '{result_code}' in this project."
            if integration is None
            else f"Integration '{integration.name}' is not active."
        )
        run.finished_at = timezone.now()
    try:
        with transaction.atomic():
            run.save()
            if run.status == CallRun.Status.QUEUED:
                _enqueue(run.pk)
    except IntegrityError:
        # The same call arrived twice at once: the other request recorded it.
        existing = CallRun.objects.filter(project=project, call_id=call_id).first()
        if existing is None:
            raise
        return existing, False
    return run, True


def call_result_refuse(
    *, project: DialerProject, call_id, result_code, record, reason: str
) -> CallRun:
    """Record a call result that cannot be run (unreadable, invalid, unstorable text) as failed
    with its reason, so that no accepted call is ever lost. What was sent is kept with the
    characters no database stores replaced; a call without a usable call_id gets one."""
    call_id = storable_copy(call_id if isinstance(call_id, str) else "").strip()[:120]
    if not call_id or text_problem(str(call_id)):
        call_id = f"refused-{uuid.uuid4().hex}"
    existing = CallRun.objects.filter(project=project, call_id=call_id).first()
    if existing is not None:
        return existing
    run = CallRun(
        project=project,
        call_id=call_id,
        result_code=storable_copy(result_code if isinstance(result_code, str) else "")[:64],
        payload=storable_copy(record) if isinstance(record, dict) else {},
        status=CallRun.Status.FAILED,
        error=storable_copy(reason),
        outcome="Refused: the call result could not be read, so nothing was run.",
        finished_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        return CallRun.objects.get(project=project, call_id=call_id)
    return run


def _enqueue(run_id: int) -> None:
    transaction.on_commit(
        lambda: async_task("integrations.dialer.tasks.dialer_run", run_id, group="dialer")
    )


def run_retry(*, run: CallRun) -> bool:
    """Queue a failed run again (after its integration was fixed), or a stuck one (its task was
    lost: queued or running for longer than any task may run). Upserts on the run's external ids
    make the retry create nothing twice. False when the run is neither."""
    with transaction.atomic():
        updated = (
            CallRun.objects.filter(pk=run.pk)
            .filter(selectors.retryable_q())
            .update(status=CallRun.Status.QUEUED, finished_at=None)
        )
        if updated:
            _enqueue(run.pk)
    return bool(updated)


def run_execute(*, run_id: int) -> CallRun | None:
    """Run a queued call result against Salesforce and record the outcome. A run is claimed
    with a conditional UPDATE, so two workers never run it twice."""
    claimed = CallRun.objects.filter(pk=run_id, status=CallRun.Status.QUEUED).update(
        status=CallRun.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    run = CallRun.objects.select_related("project").get(pk=run_id)
    integration = selectors.integration_for_code(project_id=run.project_id, code=run.result_code)
    fix = ""
    runner = None
    try:
        if integration is None or not integration.active:
            raise RunFailed(
                f"No active integration has result code '{run.result_code}' any more.",
                fix="Give the result code to an active integration, then retry the run.",
            )
        run.integration, run.action = integration, integration.action
        runner = Runner(run=run, integration=integration, client=get_client())
        # One run at a time per person: the next finds (and updates) what the first created.
        with named_lock(runner.lock_name()):
            outcome = runner.execute()
        if runner.notes:
            outcome += " Notes: " + "; ".join(runner.notes) + "."
        run.status, run.outcome, run.error = CallRun.Status.SUCCEEDED, outcome, ""
    except RunFailed as exc:
        run.status, run.error, fix = CallRun.Status.FAILED, exc.message, exc.fix
    except (TransientError, LimitExceeded, BudgetExceeded) as exc:
        run.status = CallRun.Status.FAILED
        run.error = f"Salesforce could not be reached or refused more calls: {exc}"
        fix = (
            "Nothing needs changing in the integration: retry the run once Salesforce is "
            "reachable again (or the API budget allows)."
        )
    except PermanentError as exc:
        run.status = CallRun.Status.FAILED
        run.error = f"Salesforce said: {exc}"
        fix = (
            "Correct the field mappings (or the data in Salesforce) that Salesforce complains "
            "about, then retry the run."
        )
    except Exception as exc:  # noqa: BLE001 - record it; a run must never stay "running"
        log.exception("dialer: run %s crashed", run_id)
        run.status = CallRun.Status.FAILED
        run.error = f"Internal error: {type(exc).__name__}"
        fix = "This is a crmbridge bug; tell the crmbridge team, then retry the run."
    if runner is not None:
        run.salesforce_records = runner.touched or (
            run.salesforce_records if run.status == CallRun.Status.FAILED else []
        )
        if run.status == CallRun.Status.FAILED and runner.touched:
            run.outcome = "Written before the failure: " + ", ".join(
                f"{r['object']} {r['id']} {r['operation']}" for r in runner.touched
            )
        elif run.status == CallRun.Status.FAILED:
            run.outcome = "Nothing was written."
    elif run.status == CallRun.Status.FAILED:
        run.outcome = "Nothing was written."
    run.finished_at = timezone.now()
    # Still one run per person while the mirror learns what this one wrote.
    with named_lock(runner.lock_name()) if runner is not None else contextlib.nullcontext():
        _announce_written(run.salesforce_records)
    if run.status == CallRun.Status.FAILED:
        sent = run_failure_email_send(run=run, integration=integration, fix=fix)
        if sent:
            run.emails_sent = [
                *(run.emails_sent or []),
                {"to": sent, "at": run.finished_at.isoformat(), "attempt": run.attempts},
            ]
    run.save(
        update_fields=[
            "status", "outcome", "error", "salesforce_records", "integration", "action",
            "emails_sent", "finished_at",
        ]
    )  # fmt: skip
    return run


def _announce_written(records) -> None:
    """The mirror learns what this run wrote in Salesforce (accounts.signals)."""
    written = {}
    for record in records or ():
        if record.get("operation") != "matched":
            written.setdefault(record["object"], []).append(record["id"])
    if written:
        transaction.on_commit(lambda: mirror_records_stale.send(sender=CallRun, records=written))
