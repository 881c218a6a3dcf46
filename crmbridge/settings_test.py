"""Settings for the test suite: the development defaults, tasks run inline unless a test asks.

pytest-django turns DEBUG off while tests run; DEBUG=1 here only selects the dev defaults
(a throwaway SECRET_KEY, plain-HTTP cookies, no HTTPS redirect) for the test client.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("CRMBRIDGE_ENV_FILE", "")  # a demo's .env never reaches the tests
os.environ.setdefault("AXES_FAILURE_LIMIT", "1000")

from .settings import *  # noqa: E402, F403
from .settings import DATABASES, Q_CLUSTER  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file (not memory) so that a real django-q2 cluster in another process sees the test
    # data; one per test run, so that runs side by side never share a database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"crmbridge-test-{os.getpid()}.sqlite3")
    }

# Tasks run inline (django-q2's sync mode) unless a test is marked real_broker.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Secrets at rest need a key; the suite has its own (never a production one).
from .settings import FIELD_ENCRYPTION_KEYS  # noqa: E402

FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or ["pn8yTqF4lqT7o1n2l0kq9m0hJbH2mJqk3sVQ6d3Yb1Q="]
