"""A rep with a real CardDAV account (Radicale), an emulated Salesforce org and its mirror."""

import datetime as dt

import pytest
import requests
from lxml import etree

from accounts.models import Account, AccountDomain, SalesforceUser
from integrations.addressbooks.services import address_book_create, address_book_sync
from integrations.sync.models import SyncRun
from integrations.sync.services import sync_run_execute


class Phone:
    """The rep's own CardDAV client: what they do to their address book, by plain HTTP."""

    def __init__(self, user, collection_url=""):
        self.auth = (user.username, user.password)
        self.collection_url = collection_url

    def cards(self) -> dict[str, str]:
        """href -> vCard text of every card in the collection."""
        body = (
            '<?xml version="1.0"?><c:addressbook-query xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><c:address-data/></d:prop>'
            "</c:addressbook-query>"
        )
        response = requests.request(
            "REPORT", self.collection_url, data=body, auth=self.auth, headers={"Depth": "1"}
        )
        response.raise_for_status()
        tree = etree.fromstring(response.content)
        ns = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:carddav"}
        return {
            r.findtext("d:href", namespaces=ns): r.findtext(".//c:address-data", namespaces=ns)
            for r in tree.findall("d:response", ns)
            if r.findtext(".//c:address-data", namespaces=ns)
        }

    def card_with(self, text) -> tuple[str, str]:
        found = [(h, c) for h, c in self.cards().items() if text in c]
        assert len(found) == 1, found
        return found[0]

    def put(self, name, text):
        response = requests.put(
            self.collection_url + name,
            data=text.replace("\n", "\r\n").encode(),
            auth=self.auth,
            headers={"Content-Type": "text/vcard; charset=utf-8"},
        )
        assert response.status_code in (201, 204), response.text

    def replace(self, href, text):
        response = requests.put(
            requests.compat.urljoin(self.collection_url, href),
            data=text.encode(),
            auth=self.auth,
            headers={"Content-Type": "text/vcard; charset=utf-8"},
        )
        assert response.status_code in (201, 204), response.text

    def delete(self, href):
        url = requests.compat.urljoin(self.collection_url, href)
        assert requests.delete(url, auth=self.auth).status_code in (200, 204)


def vcard(*lines, version="3.0"):
    return "\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])


@pytest.fixture
def world(sf_org, sf_client, rep_user):
    """The rep in Salesforce and the mirror; Acme (acme.com) and Globex, owned by the rep."""
    rep_id = sf_org.insert(
        "User", {"Name": "Rex Rep", "Email": rep_user.email, "Username": rep_user.email}
    )
    rep_sf = SalesforceUser.objects.create(
        sf_id=rep_id, name="Rex Rep", email=rep_user.email, user=rep_user
    )
    accounts = {}

    def account(name, *, domain=None, created="2020-01-01", owner=rep_sf):
        """created=None: a mirror row whose creation date crmbridge does not know yet."""
        data = {"Name": name, "OwnerId": owner.sf_id} if owner else {"Name": name}
        if domain:
            data["Website"] = f"https://{domain}"
        sf_id = sf_org.insert("Account", data)
        row = Account.objects.create(
            sf_id=sf_id,
            name=name,
            website=domain or "",
            owner=owner,
            sf_created_at=created and dt.datetime.fromisoformat(created).replace(tzinfo=dt.UTC),
        )
        if domain:
            AccountDomain.objects.create(account=row, domain=domain, source="website")
        accounts[name] = row
        return row

    account("Acme", domain="acme.com")
    account("Globex", domain="globex.com")
    return {"rep": rep_sf, "rep_id": rep_id, "accounts": accounts, "account": account}


@pytest.fixture
def salesforce_sync(sf_client):
    """Run crmbridge's Salesforce sync (pull, then push the outbox) inline."""

    def run():
        result = sync_run_execute(kind=SyncRun.Kind.SYNC, trigger="command", client=sf_client)
        assert result.state == SyncRun.State.SUCCEEDED, (result.message, result.counts)
        return result

    return run


@pytest.fixture
def book(radicale_user, rep_user, world):
    return address_book_create(
        owner=rep_user,
        url=radicale_user.url,
        username=radicale_user.username,
        secret=radicale_user.password,
    )


@pytest.fixture
def sync_book():
    """Sync an address book inline; returns the run, refreshed."""

    def run(book):
        result = address_book_sync(address_book=book)
        book.refresh_from_db()
        return result

    return run


@pytest.fixture
def phone(book, radicale_user, sync_book):
    """The rep's phone, on the address book crmbridge made (after a first sync)."""
    sync_book(book)
    assert book.collection_url, book.last_error
    return Phone(radicale_user, book.collection_url)
