"""Control endpoints under ``/_emulator/`` (never counted as API calls, never faulted)."""

from __future__ import annotations

from .web import Request, Response


def control(org, req: Request) -> Response:
    what = req.path[len("/_emulator/") :].strip("/")
    data = req.json() if req.method in ("POST", "PUT") else None
    data = data if isinstance(data, dict) else {}
    if what == "stats":
        if req.method == "DELETE":
            org.stats.reset()
        return Response(
            200,
            {
                **org.stats.as_dict(),
                "api_used": org.api_used,
                "api_limit": org.api_limit,
                "faults_injected": dict(org.faults.injected),
            },
        )
    if what == "stats/reset" and req.method == "POST":
        org.stats.reset()
        return Response(200, org.stats.as_dict())
    if what == "faults":
        if req.method == "DELETE":
            org.faults.clear()
        elif req.method == "POST":
            try:
                kind = str(data.get("kind", "503"))
                kw = {"endpoint": data.get("endpoint"), "after": bool(data.get("after"))}
                if "rate" in data:
                    org.faults.fail_rate(
                        float(data["rate"]), kind, seed=int(data.get("seed", 0)), **kw
                    )
                else:
                    skip = int(data.get("skip", 0))
                    org.faults.fail_next(int(data.get("n", 1)), kind, skip=skip, **kw)
            except ValueError as exc:
                return Response(400, {"error": str(exc)})
        return Response(200, {"faults": org.faults.describe()})
    if what == "limits" and req.method in ("POST", "PUT"):
        if "api_limit" in data:
            org.api_limit = int(data["api_limit"])
        if "api_used" in data:
            org.reset_api_usage(int(data["api_used"]))
        return Response(200, {"api_used": org.api_used, "api_limit": org.api_limit})
    if what == "sessions/expire" and req.method == "POST":
        org.expire_sessions()
        return Response(200, {"expired": True})
    if what == "sessions/revoke" and req.method == "POST":
        return Response(200, {"revoked": org.revoke_app_tokens(data.get("consumer_key"))})
    if what == "sessions/lifetime" and req.method in ("POST", "PUT"):
        try:
            org.session_seconds = int(data["seconds"])
        except (KeyError, TypeError, ValueError):
            return Response(400, {"error": "seconds must be an integer"})
        return Response(200, {"session_seconds": org.session_seconds})
    return Response(404, {"error": "unknown emulator control endpoint"})
