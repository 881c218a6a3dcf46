"""Salesforce-shaped errors."""

from __future__ import annotations


class ApiError(Exception):
    """An error the REST API reports as ``[{"message", "errorCode", "fields"}]`` with a status."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields or [])

    def body(self) -> list[dict]:
        item = {"message": self.message, "errorCode": self.code}
        if self.fields:
            item["fields"] = self.fields
        return [item]

    def record_error(self) -> dict:
        """The per-record form used by collections and SOAP results."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")
