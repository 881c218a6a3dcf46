import pytest
from imapclient.exceptions import LoginError


def test_it_stores_and_returns_a_users_messages(dovecot, dovecot_user):
    with dovecot_user.connect() as client:
        client.append("INBOX", b"From: a@example.com\r\nSubject: Hi\r\n\r\nbody\r\n")
        client.select_folder("INBOX")
        assert len(client.search("ALL")) == 1
        assert "Sent" in [name for _flags, _sep, name in client.list_folders()]

    before = dovecot_user.connect().select_folder("INBOX")[b"UIDVALIDITY"]
    dovecot.set_uidvalidity(dovecot_user, "INBOX", before + 7)
    assert dovecot_user.connect().select_folder("INBOX")[b"UIDVALIDITY"] == before + 7


def test_it_refuses_a_wrong_password(dovecot_user):
    wrong = type(dovecot_user)(
        username=dovecot_user.username,
        password="not-it",
        host=dovecot_user.host,
        port=dovecot_user.port,
    )
    with pytest.raises(LoginError):
        wrong.connect()
