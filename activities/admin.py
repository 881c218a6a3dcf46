from . import admin_diagnostics  # noqa: F401  (contact decisions, "Why no Contact?")
