"""The audit trail: who changed what, and when, read from django-simple-history's tables.

Every model with `history = HistoricalRecords(...)` is in it (settings, profiles, account
domains, rules, dialer projects and integrations, the Salesforce connection). Secrets are never
in a history table; a model lists them in SECRET_FIELDS, and a save that changes one records
"Secret changed: <which>" as the history row's change reason, never the value.
"""

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import CharField, F, OuterRef, Q, Subquery, Value
from django.db.models.signals import post_init
from simple_history.models import registered_models
from simple_history.signals import pre_create_historical_record

PER_PAGE = 50
ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
REASON_MAX = 100  # django-simple-history's history_change_reason column


# -- secrets: "secret changed", never the value --------------------------------------------------
def _secret_fields(model):
    return getattr(model, "SECRET_FIELDS", ())


def _snapshot(sender, instance, **kwargs):
    names = _secret_fields(sender)
    instance._audit_secrets = {name: getattr(instance, name, None) for name in names}


def _note_secret_changes(sender, instance, history_instance, **kwargs):
    before = getattr(instance, "_audit_secrets", None)
    if before is None:
        return
    labels = getattr(type(instance), "SECRET_LABELS", {})
    changed = [
        labels.get(name) or str(type(instance)._meta.get_field(name).verbose_name)
        for name in _secret_fields(type(instance))
        if getattr(instance, name, None) != before.get(name)
    ]
    _snapshot(type(instance), instance)  # the next save compares with what is stored now
    if changed:
        note = "Secret changed: " + ", ".join(changed)
        reason = history_instance.history_change_reason
        history_instance.history_change_reason = (f"{reason}; {note}" if reason else note)[
            :REASON_MAX
        ]


def connect_secret_notes():
    """From CrmbridgeConfig.ready(): every model with history and SECRET_FIELDS."""
    for model in apps.get_models():
        if _secret_fields(model) and model._meta.db_table in registered_models:
            post_init.connect(_snapshot, sender=model, dispatch_uid=f"audit-{model._meta.label}")
    pre_create_historical_record.connect(_note_secret_changes, dispatch_uid="audit-secrets")


# -- reading the trail -----------------------------------------------------------------------------
def tracked_models():
    """{label_lower: model} of every model with history, in a stable order."""
    models = {m._meta.label_lower: m for m in registered_models.values() if m._meta.app_config}
    return dict(sorted(models.items()))


def _history_of(model):
    return getattr(model, model._meta.simple_history_manager_attribute).model


@dataclass
class Entry:
    model: object
    record: object
    changes: list
    first_known: bool = False

    @property
    def label(self):
        return self.model._meta.label_lower

    @property
    def model_name(self):
        return self.model._meta.verbose_name

    @property
    def action(self):
        return ACTIONS.get(self.record.history_type, self.record.history_type)

    @property
    def object_text(self):
        # Built from the history row alone (record.instance would query for excluded fields).
        values = {
            f.attname: getattr(self.record, f.attname)
            for f in self.model._meta.concrete_fields
            if hasattr(self.record, f.attname)
        }
        try:
            return str(self.model(**values))
        except Exception:  # a __str__ that needs a relation which is gone: the id will do
            return f"#{self.record.id}"


def audit_page(*, model_label=None, actor_id=None, page=None):
    """One page of the trail, newest first: (page, [Entry]). Unknown filters match nothing."""
    models = tracked_models()
    if model_label:
        chosen = [models[model_label]] if model_label in models else []
    else:
        chosen = list(models.values())
    parts = []
    for model in chosen:
        query = _history_of(model).objects.all()
        if actor_id is not None:
            query = query.filter(history_user_id=actor_id)
        label = Value(model._meta.label_lower, output_field=CharField())
        parts.append(
            query.order_by()
            .annotate(label=label, when=F("history_date"))
            .values("label", "history_id", "when")
        )
    if not parts:
        return Paginator([], PER_PAGE).get_page(1), []
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    paginator = Paginator(union.order_by("-when", "-history_id"), PER_PAGE)
    current = paginator.get_page(page)
    return current, _entries(models, list(current.object_list))


def _entries(models, rows):
    """The page's history rows, each with its changes against the row before it: two queries
    per model on the page, never one per row."""
    by_model = {}
    for row in rows:
        by_model.setdefault(row["label"], []).append(row["history_id"])
    entries = {}
    for label, ids in by_model.items():
        model, history = models[label], _history_of(models[label])
        earlier = history.objects.filter(id=OuterRef("id")).filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        records = list(
            history.objects.filter(history_id__in=ids)
            .annotate(
                previous_id=Subquery(
                    earlier.order_by("-history_date", "-history_id").values("history_id")[:1]
                )
            )
            .select_related("history_user")
        )
        olds = history.objects.filter(history_id__in=[r.previous_id for r in records])
        olds = {old.history_id: old for old in olds}
        for record in records:
            old = olds.get(record.previous_id)
            first = old is None and record.history_type == "~"
            entries[(label, record.history_id)] = Entry(
                model, record, _changes(model, record, old), first_known=first
            )
    return [entries[(row["label"], row["history_id"])] for row in rows]


def _changes(model, record, old):
    if old is None or record.history_type != "~":
        return []
    delta = record.diff_against(old)
    lines = []
    for change in delta.changes:
        field = model._meta.get_field(change.field)
        name = str(field.verbose_name)
        lines.append(f"{name[:1].upper()}{name[1:]}: {_text(change.old)} → {_text(change.new)}")
    return lines


def _text(value):
    if value in (None, ""):
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def actors():
    """Who may appear as an actor: staff in a role, and superusers."""
    return (
        get_user_model()
        .objects.filter(Q(groups__isnull=False) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
