"""Names read from an e-mail address alone: the rule, as a table a reader can check."""

import pytest

from activities.names import name_from_address, person_details

ADDRESSES = [
    # address                           first          last
    ("jane.doe@acme.com", "Jane", "Doe"),
    ("jane_doe@acme.com", "Jane", "Doe"),
    ("jane-doe@acme.com", "Jane", "Doe"),
    ("JANE.DOE@acme.com", "Jane", "Doe"),
    ("jane.doe+news@acme.com", "Jane", "Doe"),
    # digits are not part of a name: a number at either end of a part, or a part of digits
    ("jane.roe42@blueanalytics.com", "Jane", "Roe"),
    ("hana.novak37@example.com", "Hana", "Novak"),
    ("jane.roe.1987@acme.com", "Jane", "Roe"),
    ("2jane.roe@acme.com", "Jane", "Roe"),
    ("jane_roe_07@acme.com", "Jane", "Roe"),
    # a middle name or initial is not the last name
    ("jane.m.roe@acme.com", "Jane", "Roe"),
    ("mary.jane.roe@acme.com", "Mary", "Roe"),
    # with a dot or underscore, a hyphen belongs to the name
    ("jean-luc.picard@acme.com", "Jean-Luc", "Picard"),
    ("anna.smith-jones@acme.com", "Anna", "Smith-Jones"),
    # nameparser's knowledge of names: prefixes, Mc/Mac, titles
    ("jan.van.dijk@acme.com", "Jan", "van Dijk"),
    ("sean.mcdonald@acme.com", "Sean", "McDonald"),
    ("dr.jane.roe@acme.com", "Jane", "Roe"),
    # an initial is not a name: keep only the part that is one
    ("j.roe@acme.com", "", "Roe"),
    ("jane.r@acme.com", "Jane", ""),
    # one word says nothing of which name it is
    ("jroe@acme.com", "", ""),
    ("jdoe@acme.com", "", ""),
    ("jane@acme.com", "", ""),
    ("jane42@acme.com", "", ""),
    # letters mixed with digits inside a part are not a name
    ("j4ne.roe@acme.com", "", "Roe"),
    # role and system mailboxes are nobody's name
    ("info@acme.com", "", ""),
    ("info2@acme.com", "", ""),
    ("sales.team@acme.com", "", ""),
    ("no-reply@acme.com", "", ""),
    ("support_emea@acme.com", "", ""),
    ("12345@acme.com", "", ""),
    ("", "", ""),
    ("@acme.com", "", ""),
]


@pytest.mark.parametrize(("email", "first", "last"), ADDRESSES)
def test_it_reads_a_name_from_the_address(email, first, last):
    assert name_from_address(email) == (first, last)


def test_an_address_is_read_first_dot_last_unless_another_source_names_the_first_name():
    # roe.jane@ cannot be told from jane.roe@ by the address alone: the common convention
    # (first.last) applies, unless the display name or signature gives the first name.
    assert name_from_address("roe.jane@acme.com") == ("Roe", "Jane")
    assert name_from_address("roe.jane@acme.com", first_hint="Jane") == ("Jane", "Roe")
    details = person_details(email="roe.jane@acme.com", display_name="Jane")
    assert (details.first_name, details.last_name) == ("Jane", "Roe")
    assert details.sources == {"first_name": "address", "last_name": "address"}


def test_a_display_name_with_only_a_first_name_completes_an_address_with_only_a_last():
    details = person_details(email="j.roe@acme.com", display_name="Jane")
    assert (details.first_name, details.last_name) == ("Jane", "Roe")
    assert details.sources == {"first_name": "display_name", "last_name": "address"}


def test_a_full_display_name_still_wins_over_the_address():
    details = person_details(email="jane.roe42@acme.com", display_name="Roe, Janet")
    assert (details.first_name, details.last_name) == ("Janet", "Roe")
