"""Writes of title classification: rules, values, rule packs, re-classification of Contacts.

Every rule change goes through here: it validates (model ``clean``), bumps the rule-set version and
queues (on commit) one re-classification of existing Contacts, so nobody ever recalculates by hand.
"""

import logging
import time

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import Contact
from integrations.outbox.services import outbox_enqueue, outbox_write_target
from integrations.salesforce import get_client

from . import selectors
from .engine import RuleSet, load_rulepack, shadowed_rules
from .models import (
    SALESFORCE_FIELDS,
    VALUE_MAX_LENGTH,
    ClassificationRule,
    ClassificationSettings,
    ClassificationValue,
    Dimension,
    ReclassificationRun,
    RuleSetVersion,
)

log = logging.getLogger(__name__)

RULE_FIELDS = ("keyword", "dimension", "value", "priority", "active", "note")
STARTER_PACKS = {"seniority": "seniority_starter", "department": "department_examples"}
BATCH_SIZE = 2000
TIME_BUDGET = 240.0  # seconds per task; Q_CLUSTER["timeout"] is 600


# -- classification of one title ---------------------------------------------------------------


def classify_contact_fields(*, title, ruleset: RuleSet | None = None) -> tuple:
    """(department, seniority) for a Contact's title under the active rules; None = unclassified.

    One query (the rule-set version) unless `ruleset` is given; classifying does no query.
    """
    result = (ruleset or selectors.active_ruleset()).classify(title or "")
    return result.department_value, result.seniority_value


def contacts_apply_classification(
    *, contacts, ruleset: RuleSet | None = None, clear_unmatched=None
):
    """Set department/seniority on Contact objects in memory; return those that changed.

    No query besides the rule-set version (when `ruleset` is not given) and the settings (when
    `clear_unmatched` is not given). Without clear_unmatched, a title no rule matches keeps the
    value it has (e.g. one set in Salesforce). The caller saves (bulk_update) and queues the
    Salesforce update (``outbox_contact_update``).
    """
    ruleset = ruleset or selectors.active_ruleset()
    if clear_unmatched is None:
        clear_unmatched = ClassificationSettings.load().clear_unmatched
    changed = []
    for contact in contacts:
        department, seniority = classify_contact_fields(title=contact.title, ruleset=ruleset)
        if not clear_unmatched:
            department = department if department is not None else contact.department
            seniority = seniority if seniority is not None else contact.seniority
        if (department, seniority) != (contact.department, contact.seniority):
            contact.department, contact.seniority = department, seniority
            changed.append(contact)
    return changed


# -- values ------------------------------------------------------------------------------------


def value_ensure(
    *, dimension: str, value: str, source: str = ClassificationValue.Source.CSM
) -> ClassificationValue:
    value = (value or "").strip()[:VALUE_MAX_LENGTH]
    obj, _ = ClassificationValue.objects.get_or_create(
        dimension=dimension, value=value, defaults={"source": source}
    )
    return obj


def classification_values_refresh_from_salesforce() -> dict:
    """Pull the Contact picklists (Department, Seniority__c) into the value lists.

    Values already known are kept (a CSM's value that Salesforce also has becomes a Salesforce
    value). Returns {"department": [added...], "seniority": [added...]}.
    Raises integrations.salesforce.SalesforceError when Salesforce cannot be reached.
    """
    fields = {f["name"]: f for f in get_client().describe("Contact")["fields"]}
    added: dict = {}
    for dimension, sf_field in SALESFORCE_FIELDS.items():
        added[str(dimension)] = []
        field = fields.get(sf_field)
        if field is None:
            continue
        for entry in field.get("picklistValues") or []:
            if not entry.get("active", True):
                continue
            value = (entry.get("value") or "").strip()
            if not value:
                continue
            obj, created = ClassificationValue.objects.get_or_create(
                dimension=dimension,
                value=value[:VALUE_MAX_LENGTH],
                defaults={"source": ClassificationValue.Source.SALESFORCE},
            )
            if created:
                added[str(dimension)].append(obj.value)
            elif obj.source != ClassificationValue.Source.SALESFORCE:
                obj.source = ClassificationValue.Source.SALESFORCE
                obj.save(update_fields=["source"])
    return added


# -- rules -------------------------------------------------------------------------------------


def _history_user(rule, user):
    """Who made the change, for django-simple-history (API and services, not only the admin)."""
    if user is not None and getattr(user, "pk", None):
        rule._history_user = user


def rule_warnings(*, rule: ClassificationRule) -> list[str]:
    """Why `rule` can never win (or beats another rule that then never wins), in words."""
    if not rule.active:
        return []
    others = ClassificationRule.objects.filter(active=True, dimension=rule.dimension)
    others = others.exclude(pk=rule.pk) if rule.pk else others
    engine_rules = [r.as_engine_rule() for r in others] + [rule.as_engine_rule()]
    warnings = []
    for shadowed in shadowed_rules(engine_rules):
        if shadowed.rule.id == rule.pk or (shadowed.by is not None and shadowed.by.id == rule.pk):
            warnings.append(f"Rule {shadowed.rule.keyword!r} can never win: {shadowed.reason}.")
    return warnings


def rules_changed(*, reason: str) -> ReclassificationRun:
    """A rule changed: bump the version and queue re-classification (on commit)."""
    RuleSetVersion.objects.get_or_create(pk=RuleSetVersion.SINGLETON_PK)
    RuleSetVersion.objects.filter(pk=RuleSetVersion.SINGLETON_PK).update(
        version=F("version") + 1, changed_at=timezone.now()
    )
    selectors.active_ruleset_forget()
    return reclassification_enqueue(reason=reason)


def _rule_save(*, rule: ClassificationRule, user) -> ClassificationRule:
    # clean() names the clashing rule; the constraint would only repeat it less helpfully.
    rule.full_clean(exclude=["created_by", "updated_by"], validate_constraints=False)
    if user is not None and getattr(user, "pk", None):
        if rule.pk is None:
            rule.created_by = user
        rule.updated_by = user
    _history_user(rule, user)
    rule.save()
    value_ensure(dimension=rule.dimension, value=rule.value)
    return rule


@transaction.atomic
def rule_save(*, rule: ClassificationRule, user=None) -> list[str]:
    """Save a new or changed rule built elsewhere (the admin's form). Returns its warnings."""
    created = rule.pk is None
    _rule_save(rule=rule, user=user)
    rules_changed(reason=f"rule #{rule.pk} {rule.keyword!r} {'added' if created else 'changed'}")
    return rule_warnings(rule=rule)


@transaction.atomic
def rule_create(*, user=None, **fields) -> tuple[ClassificationRule, list[str]]:
    """Create a rule. Returns (rule, warnings). Raises ValidationError."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    rule = _rule_save(rule=ClassificationRule(**fields), user=user)
    rules_changed(reason=f"rule #{rule.pk} {rule.keyword!r} added")
    return rule, rule_warnings(rule=rule)


@transaction.atomic
def rule_update(
    *, rule: ClassificationRule, user=None, **changes
) -> tuple[ClassificationRule, list[str]]:
    """Change a rule. Returns (rule, warnings). Raises ValidationError."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(rule, name, value)
    _rule_save(rule=rule, user=user)
    rules_changed(reason=f"rule #{rule.pk} {rule.keyword!r} changed")
    return rule, rule_warnings(rule=rule)


@transaction.atomic
def rule_delete(*, rule: ClassificationRule, user=None) -> None:
    label = f"rule #{rule.pk} {rule.keyword!r} deleted"
    _history_user(rule, user)
    rule.delete()
    rules_changed(reason=label)


@transaction.atomic
def rules_delete(*, rules, user=None) -> int:
    """Delete several rules; one version bump and one re-classification."""
    rules = list(rules)
    for rule in rules:
        _history_user(rule, user)
        rule.delete()
    if rules:
        rules_changed(reason=f"{len(rules)} rules deleted")
    return len(rules)


@transaction.atomic
def rules_set_active(*, rules, active: bool, user=None) -> int:
    changed = 0
    for rule in rules:
        if rule.active != active:
            rule.active = active
            if user is not None and getattr(user, "pk", None):
                rule.updated_by = user
            _history_user(rule, user)
            rule.save()
            changed += 1
    if changed:
        rules_changed(reason=f"{changed} rules {'activated' if active else 'deactivated'}")
    return changed


@transaction.atomic
def rulepack_load(*, name: str, user=None) -> dict:
    """Load a bundled rule pack (idempotent: phrases already present are left as they are).

    Returns {"created": n, "skipped": n}.
    """
    existing = set(ClassificationRule.objects.values_list("dimension", "phrase"))
    created = skipped = 0
    for data in load_rulepack(name):
        rule = ClassificationRule(
            keyword=data["keyword"],
            dimension=data["dimension"],
            value=data["value"],
            priority=int(data.get("priority") or 0),
            note=data.get("note", ""),
        )
        rule.keyword = rule.keyword.strip()
        # A pack's "Finance" takes the org's "finance": the same value, spelled the org's way.
        rule.value = (
            ClassificationValue.case_twin(dimension=rule.dimension, value=rule.value) or rule.value
        )
        key = (rule.dimension, " ".join(rule.as_engine_rule().words))
        if key in existing or not key[1]:
            skipped += 1
            continue
        existing.add(key)
        _rule_save(rule=rule, user=user)
        created += 1
    if created:
        rules_changed(reason=f"rule pack {name!r} loaded ({created} rules)")
    return {"created": created, "skipped": skipped}


# -- re-classification of existing Contacts ----------------------------------------------------


def _enqueue_task(run_id: int) -> None:
    def enqueue():
        async_task(
            "classification.tasks.reclassify_contacts", run_id, task_name=f"reclassify-{run_id}"
        )

    transaction.on_commit(enqueue)


def reclassification_enqueue(*, reason: str) -> ReclassificationRun:
    """Queue a re-classification run (task sent on commit).

    A run queued and not started yet absorbs later changes (it reads the rules when it starts);
    its task is sent again, which is harmless (a run is claimed once) and recovers a lost task.
    """
    pending = ReclassificationRun.objects.filter(
        state=ReclassificationRun.State.QUEUED, last_contact_id=0, processed=0
    ).first()
    run = pending or ReclassificationRun.objects.create(reason=reason[:255])
    _enqueue_task(run.pk)
    return run


def contacts_reclassify(
    *, run_id: int, batch_size: int = BATCH_SIZE, time_budget: float = TIME_BUDGET
) -> ReclassificationRun:
    """Classify every Contact with the active rules, in batches by id.

    Writes only Contacts whose department or seniority changes (bulk_update) and queues each
    one's Salesforce update through the outbox, in the same transaction as its batch. Progress is
    recorded on the run after every batch. After `time_budget` seconds the run is queued again
    and continues in a new task from where it stopped (a task stays well below its timeout).
    """
    claimed = ReclassificationRun.objects.filter(
        pk=run_id, state=ReclassificationRun.State.QUEUED
    ).update(state=ReclassificationRun.State.RUNNING)
    run = ReclassificationRun.objects.get(pk=run_id)
    if not claimed:
        return run  # already taken by another worker, or finished
    deadline = time.monotonic() + time_budget
    try:
        contacts = Contact.objects.filter(is_deleted=False)
        clear_unmatched = ClassificationSettings.load().clear_unmatched
        if run.started_at is None:
            run.started_at = timezone.now()
            run.total = contacts.count()
            run.save(update_fields=["started_at", "total"])
        last_id = run.last_contact_id
        fields = ("id", "title", "department", "seniority", "sf_id", "crmbridge_id")
        while True:
            # One small query per batch: a rule change during a long run is picked up at once.
            ruleset = selectors.active_ruleset()
            with transaction.atomic():
                # Locked while classified and written: a concurrent pull of a new title waits.
                # FOR NO KEY UPDATE (ids never change here), so rows that refer to these
                # Contacts (ingestion's participants, decisions, logs) are written meanwhile.
                batch = list(
                    contacts.select_for_update(no_key=True)
                    .filter(id__gt=last_id)
                    .order_by("id")
                    .only(*fields)[:batch_size]
                )
                if not batch:
                    break
                last_id = batch[-1].id
                changed = contacts_apply_classification(
                    contacts=batch, ruleset=ruleset, clear_unmatched=clear_unmatched
                )
                queued = 0
                if changed:
                    Contact.objects.bulk_update(changed, ["department", "seniority"])
                    for contact in changed:
                        queued += outbox_contact_update(contact=contact)
                ReclassificationRun.objects.filter(pk=run.pk).update(
                    ruleset_version=ruleset.version,
                    last_contact_id=last_id,
                    processed=F("processed") + len(batch),
                    changed=F("changed") + len(changed),
                    outbox_queued=F("outbox_queued") + queued,
                )
            if len(batch) == batch_size and time.monotonic() > deadline:
                # At least one batch per task, so a run always moves on.
                ReclassificationRun.objects.filter(pk=run.pk).update(
                    state=ReclassificationRun.State.QUEUED
                )
                _enqueue_task(run.pk)
                run.refresh_from_db()
                return run
        ReclassificationRun.objects.filter(pk=run.pk).update(
            state=ReclassificationRun.State.DONE, finished_at=timezone.now()
        )
    except Exception as exc:
        log.exception("re-classification run %s failed", run_id)
        ReclassificationRun.objects.filter(pk=run.pk).update(
            state=ReclassificationRun.State.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    run.refresh_from_db()
    return run


def outbox_contact_update(*, contact) -> int:
    """Queue the Salesforce update of a Contact's Department and Seniority__c (in the caller's
    transaction). Returns 1 when queued, 0 for a contact Salesforce does not know yet."""
    payload = {
        SALESFORCE_FIELDS[Dimension.DEPARTMENT]: contact.department,
        SALESFORCE_FIELDS[Dimension.SENIORITY]: contact.seniority,
    }
    if not (contact.sf_id or contact.crmbridge_id):
        return 0
    outbox_enqueue(
        sobject="Contact", payload=payload, local=contact, **outbox_write_target(contact)
    )
    return 1


def classification_is_on() -> bool:
    """Titles are classified once at least one rule is active."""
    return ClassificationRule.objects.filter(active=True).exists()


def contacts_classify_retitled(*, contacts) -> int:
    """Contacts that arrived or changed title (a pull): classify, save and queue the change.
    Nothing happens while no rule is active. Returns how many Contacts changed."""
    if not classification_is_on() or not contacts:  # contacts may be a QuerySet: read last
        return 0
    changed = contacts_apply_classification(contacts=contacts)
    if changed:
        Contact.objects.bulk_update(changed, ["department", "seniority"], batch_size=1000)
        for contact in changed:
            outbox_contact_update(contact=contact)
    return len(changed)


def classified_fields_owned() -> set:
    """(sobject, field) whose crmbridge value wins a conflict: the classified Contact fields
    while classification is on."""
    if not classification_is_on():
        return set()
    return {("Contact", field) for field in SALESFORCE_FIELDS.values()}
