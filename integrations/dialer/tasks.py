"""django-q2 entry points of the dialer: thin, take ids."""

from . import services


def dialer_run(run_id: int) -> None:
    """Run one call result against Salesforce (claimed, so a second delivery does nothing)."""
    services.run_execute(run_id=run_id)
