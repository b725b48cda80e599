"""A pytest plugin loaded before pytest-django reads the settings (`-p tests.environment`).

Every test session gets its own node state (keys, media, the SQLite file) in a temporary
folder; HAVEN_DATABASE_URL, when set (CI's PostgreSQL run), still chooses the database.
"""

from __future__ import annotations

import os
import tempfile

os.environ["HAVEN_DATA_DIR"] = tempfile.mkdtemp(prefix="haven-test-")
os.environ.pop("HAVEN_CONFIG", None)
os.environ.setdefault("HAVEN_SECURE_COOKIES", "false")
os.environ.setdefault("HAVEN_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("HAVEN_API_RATE", "100000")
