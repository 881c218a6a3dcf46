"""Title classification: values, keyword rules, rule-set version, settings, re-classification runs.

The matching itself is ``classification.engine`` (pure Python). Writes go through
``classification.services`` (which bump the rule-set version and queue the re-classification of
existing Contacts); reads through ``classification.selectors``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from crmbridge.models import SingletonModel
from integrations.salesforce.objects import CLASSIFIED_CONTACT_FIELDS

from .engine import Rule
from .words import phrase_key


class Dimension(models.TextChoices):
    DEPARTMENT = "department", "Department"
    SENIORITY = "seniority", "Seniority"


# Salesforce Contact field written for each dimension.
SALESFORCE_FIELDS = {dimension: CLASSIFIED_CONTACT_FIELDS[dimension] for dimension in Dimension}
VALUE_MAX_LENGTH = 80  # accounts.Contact.department / seniority


def phrase_of(keyword: str) -> str:
    """The normalised words of a keyword joined by single spaces ("" = no words)."""
    return " ".join(phrase_key(keyword or ""))


class ClassificationValue(models.Model):
    """A value a rule may set: from the org's Contact picklist, or added by a CSM."""

    class Source(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce picklist"
        CSM = "csm", "Added by CSM"

    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=VALUE_MAX_LENGTH)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CSM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dimension", "value"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "value"], name="classvalue_unique"),
        ]

    def __str__(self):
        return f"{self.get_dimension_display()}: {self.value}"

    def clean(self):
        self.value = (self.value or "").strip()
        if not self.value:
            raise ValidationError({"value": "A value cannot be empty."})
        twin = ClassificationValue.case_twin(
            dimension=self.dimension, value=self.value, other_than=self.pk
        )
        if twin is not None:
            raise ValidationError(
                {"value": f"“{twin}” is already a {self.dimension} value: use that spelling."}
            )

    @classmethod
    def case_twin(cls, *, dimension: str, value: str, other_than: int | None = None) -> str | None:
        """The known spelling of `value` when only its case differs ("finance" for "Finance"),
        else None: a rule with the twin would silently start a second department. `other_than`:
        the pk of a value being renamed, which is no twin of itself."""
        known = cls.objects.filter(dimension=dimension, value__iexact=value)
        if other_than is not None:
            known = known.exclude(pk=other_than)
        spellings = set(known.values_list("value", flat=True))
        if not spellings or value in spellings:
            return None
        return min(spellings)


class ClassificationRule(models.Model):
    """A keyword rule: titles containing `keyword` (as consecutive whole words) get `value`."""

    keyword = models.CharField(
        max_length=200,
        help_text="Words that must occur together in the title, e.g. 'Solutions Engineer'. "
        "Case and punctuation do not matter.",
    )
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=VALUE_MAX_LENGTH)
    priority = models.IntegerField(
        default=0,
        validators=[MinValueValidator(-1_000_000), MaxValueValidator(1_000_000)],
        help_text="Decides between rules whose phrases have as many words: higher wins.",
    )
    active = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    phrase = models.CharField(
        max_length=400,
        editable=False,
        help_text="The keyword's words as the engine compares them (case folded, NFKC).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["dimension", "keyword"]
        constraints = [
            # The same phrase twice in one dimension is ambiguous: one of them could never win.
            models.UniqueConstraint(
                fields=["dimension", "phrase"],
                name="classrule_phrase_unique",
                violation_error_message="Another rule of this dimension has the same phrase.",
            ),
        ]
        indexes = [models.Index(fields=["active", "dimension"], name="classrule_active_idx")]

    def __str__(self):
        return f"{self.keyword} → {self.value} ({self.dimension})"

    def save(self, *args, **kwargs):
        self.phrase = phrase_of(self.keyword)  # derived column, kept in step with the keyword
        super().save(*args, **kwargs)

    def clean(self):
        self.keyword = (self.keyword or "").strip()
        self.value = (self.value or "").strip()
        self.phrase = phrase_of(self.keyword)
        errors = {}
        if not self.phrase:
            errors["keyword"] = "The keyword has no words (it is empty or only punctuation)."
        elif len(self.phrase) > self._meta.get_field("phrase").max_length:
            errors["keyword"] = "The keyword is too long once normalised; use fewer words."
        if not self.value:
            errors["value"] = "Choose the value this rule sets."
        elif self.dimension and not self._value_unchanged():
            twin = ClassificationValue.case_twin(dimension=self.dimension, value=self.value)
            if twin is not None:
                errors["value"] = (
                    f"“{twin}” is already a {self.dimension} value: use that spelling "
                    "(values differing only in case would be two values)."
                )
        if self.phrase and self.dimension:
            other = (
                ClassificationRule.objects.filter(dimension=self.dimension, phrase=self.phrase)
                .exclude(pk=self.pk)
                .first()
            )
            if other is not None:
                errors["keyword"] = (
                    f"Rule #{other.pk} {other.keyword!r} → {other.value} already has this "
                    f"{self.dimension} phrase; edit that rule instead."
                )
        if errors:
            raise ValidationError(errors)

    def _value_unchanged(self) -> bool:
        """A saved rule keeping its value and dimension (e.g. a priority edit) is never refused
        for a value that has since gained a case twin."""
        if self.pk is None:
            return False
        stored = ClassificationRule.objects.filter(pk=self.pk)
        return stored.filter(dimension=self.dimension, value=self.value).exists()

    def as_engine_rule(self):
        return Rule(self.keyword, self.dimension, self.value, self.priority, self.pk)


class RuleSetVersion(models.Model):
    """One row: bumped on every rule change; the compiled rule set is cached per version."""

    SINGLETON_PK = 1

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "rule-set version"

    def __str__(self):
        return f"rule set v{self.version}"


class ClassificationSettings(SingletonModel):
    """One row, read with ``ClassificationSettings.load()``."""

    executive_seniorities = models.JSONField(
        default=list,
        blank=True,
        help_text="Seniority values that count for 'Executive Engaged' "
        "(empty: Vice President and Executive).",
    )
    engaged_days = models.PositiveIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="An executive is engaged when they took part in an activity this recently.",
    )
    clear_unmatched = models.BooleanField(
        default=False,
        help_text="When no rule matches a contact's title, clear its department/seniority. "
        "Off: values that came from Salesforce are kept when no rule matches.",
    )
    history = HistoricalRecords()

    DEFAULT_EXECUTIVE_SENIORITIES = ["Vice President", "Executive"]

    class Meta:
        verbose_name = "classification settings"
        verbose_name_plural = "classification settings"

    def __str__(self):
        return "Classification settings"

    @property
    def executive_values(self) -> list[str]:
        return list(self.executive_seniorities or self.DEFAULT_EXECUTIVE_SENIORITIES)

    def clean(self):
        values = self.executive_seniorities
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValidationError({"executive_seniorities": "Give a list of seniority values."})
        self.executive_seniorities = [v.strip() for v in values if v.strip()]


class ReclassificationRun(models.Model):
    """One re-classification of existing Contacts after rules changed (a background task)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(max_length=255, blank=True)
    ruleset_version = models.PositiveBigIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Contacts to look at.")
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Contacts whose values changed.")
    outbox_queued = models.PositiveIntegerField(default=0, help_text="Salesforce updates queued.")
    last_contact_id = models.PositiveBigIntegerField(
        default=0, help_text="Contacts up to this id are done (a long run continues from here)."
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "re-classification run"

    def __str__(self):
        return f"Re-classification #{self.pk} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == self.State.DONE else 0
        return min(100, int(self.processed * 100 / self.total))
