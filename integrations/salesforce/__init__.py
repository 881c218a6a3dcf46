"""Everything crmbridge knows about Salesforce: the client and the objects it reads and writes."""

from .auth import (
    API_VERSION,
    FLOW_LABELS,
    PRODUCTION_LOGIN_URL,
    SANDBOX_LOGIN_URL,
    SCOPES,
    SOAP_LOGIN_LAST_VERSION,
    AuthFlow,
    ReconnectRequired,
    authorize_url,
    exchange_code,
    pkce_pair,
    revoke,
)
from .client import SalesforceClient
from .connection import (
    client_from_config,
    current_config,
    get_client,
    install_client,
    reset_client,
    session_for,
    set_config_provider,
)
from .errors import (
    BudgetExceeded,
    LimitExceeded,
    PermanentError,
    SalesforceError,
    TransientError,
)

__all__ = [
    "API_VERSION",
    "FLOW_LABELS",
    "PRODUCTION_LOGIN_URL",
    "SANDBOX_LOGIN_URL",
    "SCOPES",
    "SOAP_LOGIN_LAST_VERSION",
    "AuthFlow",
    "BudgetExceeded",
    "LimitExceeded",
    "PermanentError",
    "ReconnectRequired",
    "SalesforceClient",
    "SalesforceError",
    "TransientError",
    "authorize_url",
    "exchange_code",
    "pkce_pair",
    "revoke",
    "session_for",
    "client_from_config",
    "current_config",
    "get_client",
    "install_client",
    "reset_client",
    "set_config_provider",
]
