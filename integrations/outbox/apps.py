from django.apps import AppConfig


class OutboxConfig(AppConfig):
    # The label stays "integrations" (where the model was first defined): its table, content
    # type, permissions and admin URLs are unchanged, so moving the code moved no data.
    name = "integrations.outbox"
    label = "integrations"
    verbose_name = "Integrations"
