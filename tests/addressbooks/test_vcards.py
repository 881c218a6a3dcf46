"""The vCard mapping and the three-way merge (pure: no server, no database)."""

import vobject

from integrations.addressbooks import vcards

BASE = dict.fromkeys(vcards.FIELDS, "") | {"last_name": "Doe", "title": "Manager"}


def test_each_side_wins_the_fields_only_it_changed():
    contact = BASE | {"title": "Director"}
    card = BASE | {"phone": "+1 555 0100"}
    merged, conflicts = vcards.merge(base=BASE, contact=contact, card=card, card_is_newer=True)
    assert (merged["title"], merged["phone"], conflicts) == ("Director", "+1 555 0100", [])


def test_a_blank_on_the_card_never_blanks_the_contact():
    merged, _ = vcards.merge(base=BASE, contact=BASE, card=BASE | {"title": ""}, card_is_newer=True)
    assert merged["title"] == "Manager"


def test_the_newer_side_wins_a_field_both_changed():
    contact, card = BASE | {"title": "SF"}, BASE | {"title": "Card"}
    for newer, expected in ((True, "Card"), (False, "SF")):
        merged, (conflict,) = vcards.merge(
            base=BASE, contact=contact, card=card, card_is_newer=newer
        )
        assert merged["title"] == expected
        assert (conflict.field, conflict.card_won) == ("title", newer)


def test_the_account_name_is_never_taken_from_the_card_but_an_orphans_company_stays():
    linked = BASE | {"company": "Acme Corporation"}
    merged, _ = vcards.merge(
        base=linked, contact=linked, card=linked | {"company": "Acme"}, card_is_newer=True
    )
    assert merged["company"] == "Acme Corporation"
    orphan, _ = vcards.merge(
        base=BASE, contact=BASE, card=BASE | {"company": "Nowhere Ltd"}, card_is_newer=True
    )
    assert orphan["company"] == "Nowhere Ltd"


def test_a_card_without_n_takes_its_name_from_fn_and_keeps_unmapped_lines():
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:Dr. Ada King\r\nNOTE:keep me\r\nEND:VCARD\r\n"
    card = vcards.card_parse(text)
    values = vcards.card_values(card)
    assert (values["first_name"], values["last_name"]) == ("Ada", "King")
    written = vobject.readOne(
        vcards.card_render(values=values | {"title": "CTO"}, uid="x", sf_id="003A", existing=card)
    )
    assert (written.note.value, written.title.value) == ("keep me", "CTO")
    assert written.contents["x-salesforce-id"][0].value == "003A"


def test_what_is_not_a_vcard_is_refused_clearly():
    for text in ("", "hello", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "BEGIN:VCARD\r\n\x00"):
        try:
            vcards.card_parse(text)
        except vcards.InvalidCard:
            continue
        raise AssertionError(f"{text!r} was read as a card")
