from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "classification"
    verbose_name = "Title classification"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
