"""sfemulator: a Salesforce org that runs here.

The emulated org behaves like Salesforce where clients look: REST under ``/services/data/vNN.N/``
for versions 31.0 to 66.0 (``DEFAULT_VERSION`` 66.0; unknown versions 404, retired ones 410)
with query/queryAll (``nextRecordsUrl`` paging, parent and child relationships, aggregates with
GROUP BY, semi-/anti-joins), sobject CRUD, upsert by external id, describe (with
``childRelationships``), ``composite/sobjects`` collections (create, retrieve, update, upsert,
delete), ``composite``, ``updated/``, ``deleted/``, ``limits``, Bulk API 2.0 query jobs
(``jobs/query``: create, state, CSV results by ``Sforce-Locator``, abort, delete, list; see
``sfemulator.bulk2``); SOAP ``login`` (refused from API 65.0) and ``convertLead``; OAuth 2.0
under ``/services/oauth2/`` (``authorize``, ``token``,
``revoke``, ``userinfo``, see ``sfemulator.oauth``); Salesforce's error JSON and status codes,
15/18-character Ids, ``Sforce-Limit-Info``, ``REQUEST_LIMIT_EXCEEDED`` and chunked request bodies.
A new org has its API user and the standard LeadStatus values and Opportunity stages. It imports
neither Django nor crmbridge's apps. Storage is SQLite (a file, or ``":memory:"``).

Python API::

    import sfemulator
    org = sfemulator.Org(":memory:", username="u@x.example", password="pw",
                         security_token="", api_limit=1_000_000)
    session = org.session()          # requests.Session served in-process (any host, http/https)
    org.insert("Account", {"Name": "Acme"})          # fixture helper -> 18-char Id
    org.insert("Contact", {...}, validate=False)     # plant data a real org may hold
    org.bulk_insert("Contact", rows)                 # fast load straight into SQLite
    org.query("SELECT Id FROM Contact")              # first page, as the REST API returns it
    org.rows("Contact"); org.count("Contact")        # read storage for assertions
    org.faults.fail_next(2, kind="503")              # kinds: 500 503 connection timeout
    org.faults.fail_rate(0.1, kind="connection", seed=1, after=True)  # invalid_session
    org.faults.clear()                               # unable_to_lock_row limit
    org.stats["PATCH composite/sobjects/{type}/{field}"]; org.stats.total; org.stats.reset()
    org.api_limit = 100; org.api_used; org.reset_api_usage()
    org.expire_sessions()                            # next call: 401 INVALID_SESSION_ID
    org.query_jobs.in_progress_polls = 2             # Bulk 2.0 jobs report InProgress twice
    org.query_jobs.fail_next(1, message="timed out") # the next query job ends Failed
    app = org.create_connected_app("crmbridge", callback_urls=["https://x/cb"],
                                   certificate=cert_pem, run_as=org.username)
    app.consumer_key, app.consumer_secret            # generated unless given
    org.connected_app(key); org.connected_apps(); org.revoke_app_tokens(key)
    org.session_seconds = 60                         # access-token lifetime (default 7200)
    org.auth_clock = lambda: t                       # seconds since the epoch, for token expiry
    org.clock = lambda: datetime(...)                # control CreatedDate/SystemModstamp
    org.wsgi_app                                     # the WSGI app both ways in share

    server = sfemulator.serve(org, port=0)           # loopback HTTP server in a thread
    server.url                                       # http://127.0.0.1:PORT
    session = sfemulator.loopback_session(server.url)  # https://127.0.0.1:PORT -> http
    sfemulator.loopback_session(server.url, every_host=True)  # any https:// host -> the server
    server.stop()

    from sfemulator.seed import seed_demo; seed_demo(org, seed=42)

simple-salesforce logs in with SOAP at ``https://login.salesforce.com``; with ``org.session()``
any host reaches the org, so ``SalesforceLogin(..., session=session)`` works unchanged and
returns the instance the org names. Over loopback, post the SOAP login to
``http://127.0.0.1:PORT/services/Soap/u/59.0`` (``simple_salesforce.login.soap_login``) and build
``Salesforce(session_id=..., instance="127.0.0.1:PORT", session=loopback_session(url))``.

Control endpoints (outside ``/services/``, never counted as API calls, never faulted):
``GET|DELETE /_emulator/stats``, ``POST /_emulator/stats/reset``,
``GET|POST|DELETE /_emulator/faults`` (POST ``{"n": 3, "kind": "503"}`` or
``{"rate": 0.1, "kind": "timeout", "seed": 1, "endpoint": "GET query", "after": false}``),
``POST /_emulator/limits`` (``{"api_limit": N, "api_used": M}``),
``POST /_emulator/sessions/expire`` (every access token), ``POST /_emulator/sessions/revoke``
(``{"consumer_key": K}``: an app's refresh and access tokens), ``POST /_emulator/sessions/lifetime``
(``{"seconds": N}``).

OAuth (the web server flow with PKCE, JWT bearer, client credentials) as simple-salesforce does
it: ``SalesforceLogin(username=..., consumer_key=..., privatekey=..., domain="sfemulator",
session=org.session())`` or ``SalesforceLogin(consumer_key=..., consumer_secret=...,
domain="sfemulator", session=...)``; over a socket use ``loopback_session(url, every_host=True)``.
The authorize page signs in the org's API user (``org.username`` / ``org.password``). The demo
org (``seed_demo``) has the connected app ``sfemulator.seed.DEMO_CONSUMER_KEY`` /
``DEMO_CONSUMER_SECRET`` with the callback ``DEMO_CALLBACK_URL``.

Command line: ``python -m sfemulator serve --port 8765 --data var/sforg.sqlite3
[--username U --password P --security-token T --api-limit N --session-seconds N --seed]``,
``python -m sfemulator seed --data var/sforg.sqlite3`` and ``python -m sfemulator connected-app
--data var/sforg.sqlite3 --name NAME --callback-url URL [--callback-url URL2]
[--consumer-key K --consumer-secret S --certificate cert.pem --scopes "api refresh_token"
--run-as USERNAME]`` (prints the app as JSON, with its key and secret).
"""

from .app import EmulatorApp
from .auth import ConnectedApp
from .errors import ApiError
from .faults import KINDS as FAULT_KINDS
from .faults import Faults, Stats
from .org import DEFAULT_API_LIMIT, DEFAULT_PASSWORD, DEFAULT_USERNAME, Org
from .server import EmulatorServer, serve
from .transport import EmulatorAdapter, LoopbackAdapter, emulator_session, loopback_session
from .versions import DEFAULT_VERSION, VERSIONS

Org.app_factory = EmulatorApp
Org.session_factory = staticmethod(emulator_session)

__all__ = [
    "DEFAULT_API_LIMIT",
    "DEFAULT_VERSION",
    "VERSIONS",
    "ConnectedApp",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "FAULT_KINDS",
    "ApiError",
    "EmulatorAdapter",
    "EmulatorServer",
    "Faults",
    "LoopbackAdapter",
    "Org",
    "Stats",
    "emulator_session",
    "loopback_session",
    "serve",
]
