"""CSV import and export of keyword rules (django-import-export).

Columns: id (optional: a row with the id of an existing rule updates it, an empty id adds a rule),
keyword, dimension (department | seniority, any case), value, priority (default 0), active
(default true), note. Every row is validated like a rule saved in the admin (model ``clean``); one
bad row rolls the whole import back. A confirmed import bumps the rule-set version once and queues
one re-classification.
"""

from import_export import fields, resources, widgets

from . import services
from .models import ClassificationRule, Dimension

DIMENSION_LABELS = {label.lower(): value for value, label in Dimension.choices}


class ClassificationRuleResource(resources.ModelResource):
    active = fields.Field(attribute="active", column_name="active", widget=widgets.BooleanWidget())

    class Meta:
        model = ClassificationRule
        fields = ("id", "keyword", "dimension", "value", "priority", "active", "note")
        export_order = fields
        import_id_fields = ("id",)
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = True
        report_skipped = False

    def import_data(self, dataset, dry_run=False, *args, **kwargs):
        self._dry_run = dry_run
        self._saved = []
        kwargs.setdefault("rollback_on_validation_errors", True)
        return super().import_data(dataset, dry_run, *args, **kwargs)

    def before_import(self, dataset, **kwargs):
        if dataset.headers and "id" not in dataset.headers:
            dataset.append_col([""] * len(dataset), header="id")

    def before_import_row(self, row, **kwargs):
        dimension = str(row.get("dimension") or "").strip().lower()
        row["dimension"] = DIMENSION_LABELS.get(dimension, dimension)
        for name in ("keyword", "value", "note"):
            row[name] = str(row.get(name) or "").strip()
        if str(row.get("priority") or "").strip() == "":
            row["priority"] = 0
        if str(row.get("active") or "").strip() == "":
            row["active"] = "1"

    def before_save_instance(self, instance, row, **kwargs):
        user = kwargs.get("user")
        if user is not None and getattr(user, "pk", None):
            if instance.pk is None:
                instance.created_by = user
            instance.updated_by = user

    def after_save_instance(self, instance, row, **kwargs):
        # At once, inside the import's transaction: a later row spelling the same new value in
        # another case is then refused like any case twin (a preview rolls it back).
        services.value_ensure(dimension=instance.dimension, value=instance.value)
        self._saved.append(instance)

    def after_import(self, dataset, result, **kwargs):
        if self._dry_run or result.has_errors() or result.has_validation_errors():
            return
        if self._saved:
            services.rules_changed(reason=f"{len(self._saved)} rules imported")
