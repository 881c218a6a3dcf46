import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.domains import (
    is_internal_host,
    is_personal_domain,
    registered_domain,
    registered_domains,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Acme.co.uk/x", "acme.co.uk"),
        ("eu.acme.com", "acme.com"),
        ("jane@EU.Acme.COM", "acme.com"),
        ("googleventures.com", "googleventures.com"),
        ("mail.google.com", "google.com"),
        ("http://user:pw@shop.acme.com.au:8080/path?q=1", "acme.com.au"),
        ("x@xn--mnchen-3ya.de", "münchen.de"),
        ("MÜNCHEN.de", "münchen.de"),
        ("acme.com.", "acme.com"),
    ],
)
def test_it_finds_the_registered_domain(value, expected):
    assert registered_domain(value) == expected


@pytest.mark.parametrize(
    "value", ["", None, "localhost", "co.uk", "not a domain", "intranet", "a@acme.example"]
)
def test_it_rejects_what_is_not_a_registered_domain(value):
    assert registered_domain(value) is None


def test_google_never_stands_for_googleventures():
    assert registered_domain("team@googleventures.com") != registered_domain("x@google.com")


def test_it_splits_alternate_domains_on_commas_and_spaces():
    good, bad = registered_domains("acme.de, www.acme.fr  acme-group.com;nonsense\nacme.de")
    assert good == ["acme.de", "acme.fr", "acme-group.com"]
    assert bad == ["nonsense"]


def test_personal_domains_come_from_the_shipped_list_and_settings():
    assert is_personal_domain("gmail.com")
    assert is_personal_domain("GMAIL.com")
    assert not is_personal_domain("acme.com")
    assert is_personal_domain("mailinator.com", extra=["mailinator.com"])


def test_internal_domains_cover_subdomains():
    assert is_internal_host("eu.ourco.com", internal=["ourco.com"])
    assert not is_internal_host("notourco.com", internal=["ourco.com"])


_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@given(
    # 4+ characters: "com.io" and "co.com" style second-level suffixes are not names.
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12),
    suffix=st.sampled_from(["com", "co.uk", "com.au", "de", "io"]),
    subdomains=st.lists(_label, max_size=3),
)
def test_any_subdomain_falls_back_to_the_registered_domain(name, suffix, subdomains):
    host = ".".join([*subdomains, name, suffix])
    assert registered_domain(f"someone@{host.upper()}") == f"{name}.{suffix}"
    assert registered_domain(f"https://{host}/path") == f"{name}.{suffix}"
