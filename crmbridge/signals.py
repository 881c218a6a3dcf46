"""What the organisation's settings announce; higher layers connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Global Settings were saved. Arguments: settings (the row), changed (set of field names).
global_settings_changed = Signal()
