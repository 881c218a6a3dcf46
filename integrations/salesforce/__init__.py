"""Everything crmbridge knows about Salesforce: the client and the objects it reads and writes."""

from .client import API_VERSION, SalesforceClient
from .connection import client_from_config, get_client, install_client, reset_client
from .errors import (
    BudgetExceeded,
    LimitExceeded,
    PermanentError,
    SalesforceError,
    TransientError,
)

__all__ = [
    "API_VERSION",
    "BudgetExceeded",
    "LimitExceeded",
    "PermanentError",
    "SalesforceClient",
    "SalesforceError",
    "TransientError",
    "client_from_config",
    "get_client",
    "install_client",
    "reset_client",
]
