from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "integrations.capture"
    label = "capture"
    verbose_name = "Mail and calendar capture"
