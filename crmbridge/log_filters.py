"""Logging filters."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx (a permission denied, a page not found) is the client's doing, not a bug: one
    warning line, without the traceback Django attaches."""

    def filter(self, record):
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
