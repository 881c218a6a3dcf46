"""API versions: which the org serves, which Salesforce has retired, and what each answers.

Salesforce retired versions 7.0 through 30.0 (21.0-30.0 in Summer '25): REST answers 410 GONE,
SOAP 500 ``UNSUPPORTED_API_VERSION``. SOAP ``login()`` is not available from 65.0.
"""

from __future__ import annotations

import re

from .errors import ApiError

OLDEST = 31
NEWEST = 68
VERSIONS = [f"{n}.0" for n in range(OLDEST, NEWEST + 1)]
DEFAULT_VERSION = "68.0"  # Winter '27, the newest version the org serves
LOGIN_REMOVED_FROM = 65.0
#: ``/services/data/vNN.N/...``: the version and the rest of the path
DATA_PATH_RE = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


def release_name(version: str) -> str:
    """The release a version came with: 59.0 is Winter '24, 60.0 Spring '24, 61.0 Summer '24."""
    offset = int(float(version)) - 59
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{24 + offset // 3:02d}"


def listing() -> list[dict]:
    """``GET /services/data/``: every version served, oldest first."""
    return [
        {"label": release_name(v), "url": f"/services/data/v{v}", "version": v} for v in VERSIONS
    ]


def is_retired(version: str) -> bool:
    return 7.0 <= float(version) < OLDEST


def check_version(version: str) -> None:
    """Raise the REST error for a version the org does not serve."""
    if version in VERSIONS:
        return
    if is_retired(version):
        raise ApiError(
            410,
            "GONE",
            f"API version {version} is retired and no longer available. Use a supported version "
            f"({VERSIONS[0]} to {VERSIONS[-1]}).",
        )
    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
