"""What capture keeps and what it skips: the rules of one run, and the reasons it counts."""

import datetime as dt
from dataclasses import dataclass

from accounts.domains import host_of, is_internal_host

SKIP_REASONS = {
    "auto_reply": "auto-reply",
    "bulk": "bulk or mailing-list mail",
    "internal_only": "only internal participants",
    "excluded": "an address or domain on the exclusion list",
    "private": "marked private",
    "too_old": "older than the backfill window",
    "outside_window": "outside the backfill window and look-ahead",
    "no_participants": "no participant with a valid address",
}

LOOK_AHEAD = dt.timedelta(days=90)


@dataclass(frozen=True)
class CaptureRules:
    source_label: str  # the activities' `source`: one per owner, so two reps never collide
    owner_email: str
    since: dt.datetime
    until: dt.datetime
    internal_domains: tuple = ()
    exclusions: frozenset = frozenset()  # lower-case addresses and domains
    body_mode: str = "first"  # none | first | full (crmbridge.models.CaptureBody)
    body_chars: int = 2000

    def is_excluded(self, email: str) -> bool:
        email = email.lower()
        host = host_of(email)
        return email in self.exclusions or any(
            host == item or host.endswith("." + item) for item in self.exclusions if "@" not in item
        )

    def skip_for_people(self, emails) -> str:
        """The skip reason these participants give, or ''."""
        others = [e for e in emails if e.lower() != self.owner_email.lower()]
        if any(self.is_excluded(e) for e in emails):
            return "excluded"
        if not others or all(
            is_internal_host(host_of(e), internal=self.internal_domains) for e in others
        ):
            return "internal_only"
        return ""

    def kept_body(self, text: str) -> str:
        if self.body_mode == "none":
            return ""
        if self.body_mode == "first":
            return text[: self.body_chars]
        return text


def clean_text(value) -> str:
    """Text safe to store: no NUL, no lone surrogates (undecodable bytes in a header)."""
    if not value:
        return ""
    return str(value).encode("utf-8", "replace").decode("utf-8").replace("\x00", "").strip()
