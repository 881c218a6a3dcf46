from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "classification"
    verbose_name = "Title classification"

    def ready(self):
        from accounts.signals import contacts_retitled, owned_fields_requested

        from . import checks  # noqa: F401  (registers the system checks)
        from .services import classified_fields_owned, contacts_classify_retitled

        contacts_retitled.connect(
            lambda sender, contacts, **kw: contacts_classify_retitled(contacts=contacts),
            weak=False,
            dispatch_uid="classification.contacts_retitled",
        )
        owned_fields_requested.connect(
            lambda sender, **kw: classified_fields_owned(),
            weak=False,
            dispatch_uid="classification.owned_fields",
        )
