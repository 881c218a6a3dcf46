"""Stored addresses are exactly what email-validator makes of them, fast path or not."""

import string

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from activities.addresses import normalise_email

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
LABELS = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=70)
DOMAINS = st.one_of(
    st.lists(LABELS, min_size=1, max_size=4).map(".".join),
    st.sampled_from(
        ["Acme.COM", "xn--bcher-kva.example.com", "b\u00fccher.de", "localhost", "x.test",
         "1.2.3.4", "[1.2.3.4]", "acme.com.", "-acme.com", "a..com", "acme.c0m", "acme.123"]
    ),
)  # fmt: skip
LOCALS = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.sampled_from(['"quoted local"', "J\u00f6rg", "a b", "a@b", "Jane.Doe", "x" * 64, "x" * 65]),
)


def expected(address):
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return EmailNotValidError


def actual(address):
    try:
        return normalise_email(address)
    except EmailNotValidError:
        return EmailNotValidError


@settings(max_examples=400, deadline=None)
@given(local=LOCALS, domain=DOMAINS, pad=st.sampled_from(["", " ", "\t"]))
def test_it_stores_what_email_validator_says_or_refuses_what_it_refuses(local, domain, pad):
    address = f"{pad}{local}@{domain}{pad}"
    assert actual(address) == expected(address)


@pytest.mark.parametrize(
    "address, stored",
    [
        ("Jane.Doe@ACME.com", "Jane.Doe@acme.com"),
        ("jane@xn--bcher-kva.example.com", "jane@b\u00fccher.example.com"),
        ("J\u00f6rg@b\u00fccher.de", "J\u00f6rg@b\u00fccher.de"),
        # RFC 2142's role mailboxes are case-insensitive: email-validator lower-cases them.
        ("Postmaster@ACME.com", "postmaster@acme.com"),
        ("WWW@acme.com", "www@acme.com"),
    ],
)
def test_it_keeps_the_local_part_and_normalises_the_domain(address, stored):
    assert normalise_email(address) == stored


@pytest.mark.parametrize("address", ["", "   ", "jane", "jane@localhost", "a..b@acme.com", 7])
def test_it_refuses_what_is_not_an_address(address):
    with pytest.raises(EmailNotValidError):
        normalise_email(address)
