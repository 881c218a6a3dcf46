"""CSV import/export of Account domains (django-import-export).

Columns: account (Salesforce Id), domain, source. Importing adds the domains an Account does not
have yet, through the same service as the admin and the API (validated, pushed to Salesforce,
recent unmatched activity re-matched); rows already present are skipped.
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .domain_services import account_domain_add, domain_validate_for_account
from .domains import registered_domain
from .models import Account, AccountDomain


class AccountDomainResource(resources.ModelResource):
    account = fields.Field(
        attribute="account",
        column_name="account",
        widget=ForeignKeyWidget(Account, field="sf_id"),
    )

    class Meta:
        model = AccountDomain
        fields = ("account", "domain", "source")
        export_order = ("account", "domain", "source")
        import_id_fields = ("account", "domain")
        skip_unchanged = True
        report_skipped = True

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def before_import_row(self, row, **kwargs):
        raw = (row.get("domain") or "").strip()
        row["domain"] = registered_domain(raw) or raw
        row["source"] = AccountDomain.Source.ADMIN

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return instance.pk is not None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if instance.pk is None and instance.account_id:
            try:
                instance.domain = domain_validate_for_account(
                    account=instance.account, domain=instance.domain
                )
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        if not is_create:
            return
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            return
        saved = account_domain_add(
            account=instance.account, domain=instance.domain, user=kwargs.get("user", self.user)
        )
        instance.pk = saved.pk
