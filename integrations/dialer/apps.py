from django.apps import AppConfig


class DialerConfig(AppConfig):
    name = "integrations.dialer"
    label = "dialer"
    verbose_name = "Dialer integrations"
