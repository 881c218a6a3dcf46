"""Bad input stopped at the way in, in one place for every view: query parameters with text no
database stores (NUL), request bodies over the size limit, JSON nested past any real payload.
Each is a 400 that names what is wrong; none reaches a view, a query or a 500.
"""

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "Must not contain a NUL (0x00) character."
SURROGATE_MESSAGE = "Must not contain a lone surrogate (U+D800 to U+DFFF)."


def text_problem(value: str) -> str:
    """Why this text cannot be stored (PostgreSQL refuses both), or ""."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return ""


def unstorable_text(data, path="") -> tuple[str, str] | None:
    """(path, reason) of the first string in JSON-like data that cannot be stored, or None.
    Paths read like `record.phones[1]`. The parser bounds the depth, so recursion is safe."""
    if isinstance(data, str):
        problem = text_problem(data)
        return (path, problem) if problem else None
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            found = unstorable_text(str(key), where) or unstorable_text(value, where)
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = unstorable_text(value, f"{path}[{index}]")
            if found:
                return found
    return None


def storable_copy(data):
    """JSON-like data with every character no database stores replaced by U+FFFD, to keep a
    record of input that was refused."""
    if isinstance(data, str):
        return data.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(data, dict):
        return {storable_copy(str(k)): storable_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [storable_copy(v) for v in data]
    return data


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with JSON nested deeper than Python can follow a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class InputBoundaryMiddleware:
    """Refuses a NUL in any query parameter and a body over MAX_REQUEST_BYTES with a 400
    naming the parameter (JSON under /api/, plain text elsewhere)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        errors = {}
        for name, values in request.GET.lists():
            problem = text_problem(name) or next(filter(None, map(text_problem, values)), "")
            if problem:
                errors[storable_copy(name)] = [problem]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            errors["body"] = [
                f"The request body must be at most {settings.MAX_REQUEST_BYTES} bytes."
            ]
        if not errors:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(errors, status=400)
        lines = [f"{name}: {' '.join(reasons)}" for name, reasons in errors.items()]
        return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
