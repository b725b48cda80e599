"""Haven's configuration: environment variables first, then an optional TOML file.

This module imports no Django, so the `haven` command and the engines can read it too.
Every setting is listed in `SETTINGS` with its environment variable and its meaning;
`docs/operator-guide.md` documents each one, and a test fails when one is missing there.

State lives under `HAVEN_DATA_DIR` (default `./var`): the SQLite database, the keys, the
evidence and media folders, the Django secret. Secrets are created on first run, readable by
the owner only.
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "NODE_ROLES",
    "SETTINGS",
    "ConfigError",
    "DatabaseConfig",
    "HavenConfig",
    "Setting",
    "ensure_private_dir",
    "load_config",
    "parse_database_url",
    "secret_key",
    "write_private_file",
]

NODE_ROLES = ("provider", "authority", "protection")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration setting: its environment variable, TOML key and meaning."""

    env: str
    key: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("HAVEN_DATA_DIR", "data_dir", "./var", "folder holding all of the node's state"),
    Setting("HAVEN_CONFIG", "", "$HAVEN_DATA_DIR/haven.toml", "optional TOML settings file"),
    Setting(
        "HAVEN_DATABASE_URL",
        "database_url",
        "sqlite:///$HAVEN_DATA_DIR/haven.sqlite3",
        "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME",
    ),
    Setting(
        "HAVEN_ROLES",
        "roles",
        "provider,authority,protection",
        "which roles this node plays (comma-separated)",
    ),
    Setting("HAVEN_KEYS_DIR", "keys_dir", "$HAVEN_DATA_DIR/keys", "master and signing keys"),
    Setting("HAVEN_MEDIA_DIR", "media_dir", "$HAVEN_DATA_DIR/media", "temporary uploads"),
    Setting("HAVEN_EVIDENCE_DIR", "evidence_dir", "$HAVEN_DATA_DIR/evidence", "evidence vault"),
    Setting("HAVEN_NODE_NAME", "node_name", "haven", "this node's name, shown to other nodes"),
    Setting("HAVEN_DEBUG", "debug", "false", "Django debug pages (never in production)"),
    Setting(
        "HAVEN_ALLOWED_HOSTS",
        "allowed_hosts",
        "127.0.0.1,localhost",
        "host names the web server answers to (comma-separated)",
    ),
    Setting(
        "HAVEN_SECURE_COOKIES",
        "secure_cookies",
        "true",
        "send cookies over HTTPS only; false only for a local demo over plain HTTP",
    ),
    Setting(
        "HAVEN_MAX_UPLOAD_BYTES",
        "max_upload_bytes",
        "52428800",
        "largest accepted upload or request body, in bytes",
    ),
    Setting(
        "HAVEN_API_RATE",
        "api_rate",
        "200",
        "API requests per second allowed to one token (per server process)",
    ),
    Setting(
        "HAVEN_LOGIN_RATE",
        "login_rate",
        "10",
        "sign-in attempts per minute allowed from one address",
    ),
    Setting(
        "HAVEN_LOCKOUT_FAILURES",
        "lockout_failures",
        "5",
        "failed sign-ins after which an account is locked",
    ),
    Setting(
        "HAVEN_LOCKOUT_MINUTES",
        "lockout_minutes",
        "15",
        "how long a locked account stays locked",
    ),
    Setting(
        "HAVEN_INDEX_BYTES_PER_HASH",
        "index_bytes_per_hash",
        "256",
        "memory the matcher's index may spend per PDQ hash (more buys faster lookups)",
    ),
    Setting(
        "HAVEN_PHONE_REGION",
        "phone_region",
        "US",
        "ISO country assumed for phone numbers written without a country code in scanned text",
    ),
    Setting(
        "HAVEN_INTAKE_AGENCY",
        "intake_agency",
        "",
        "the agency that receives reports at this node's intake (empty: the node's name)",
    ),
    Setting(
        "HAVEN_EVIDENCE_RETENTION_DAYS",
        "evidence_retention_days",
        "365",
        "days preserved evidence is kept after it is reported (or preserved, if never reported)",
    ),
    Setting(
        "HAVEN_REVIEW_BREAK_MINUTES",
        "review_break_minutes",
        "20",
        "minutes of reviewing after which the review queue suggests a break",
    ),
    Setting(
        "HAVEN_AUDIT_CHECKPOINT_EVERY",
        "audit_checkpoint_every",
        "100",
        "audit entries between signed checkpoints of the chain head",
    ),
)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """A parsed `HAVEN_DATABASE_URL`."""

    engine: str  # "sqlite" or "postgresql"
    name: str  # file path for SQLite, database name for PostgreSQL
    user: str = ""
    password: str = ""
    host: str = ""
    port: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)


def parse_database_url(url: str) -> DatabaseConfig:
    """`sqlite:///relative/or//absolute/path` or `postgresql://user:pw@host:port/name?opts`."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("HAVEN_DATABASE_URL is empty")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"HAVEN_DATABASE_URL {url!r} has no scheme (sqlite:// or postgresql://)")
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ConfigError("HAVEN_DATABASE_URL: sqlite URLs look like sqlite:///path/to/file")
        path = unquote(rest[1:])
        if "\x00" in path:
            raise ConfigError("HAVEN_DATABASE_URL: the SQLite path holds a NUL character")
        return DatabaseConfig("sqlite", path)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"HAVEN_DATABASE_URL: {exc}") from None
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError("HAVEN_DATABASE_URL: a PostgreSQL URL needs a database name")
        options: dict[str, str] = {}
        for pair in filter(None, parts.query.split("&")):
            key, _, value = pair.partition("=")
            options[unquote(key)] = unquote(value)
        return DatabaseConfig(
            "postgresql",
            name,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            parts.hostname or "",
            port,
            options,
        )
    raise ConfigError(f"HAVEN_DATABASE_URL: unsupported scheme {scheme!r} (sqlite, postgresql)")


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _integer(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def _region(name: str, value: str) -> str:
    """An ISO 3166 country code that phonenumbers knows ("us" is read as "US")."""
    from phonenumbers import SUPPORTED_REGIONS

    code = value.strip().upper()
    if code not in SUPPORTED_REGIONS:
        raise ConfigError(f"{name} must be an ISO country code such as US, FR or AU, got {value!r}")
    return code


def _listed(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class HavenConfig:
    """The node's settings, resolved to absolute paths and typed values."""

    data_dir: Path
    database: DatabaseConfig
    roles: tuple[str, ...]
    keys_dir: Path
    media_dir: Path
    evidence_dir: Path
    node_name: str
    debug: bool
    allowed_hosts: tuple[str, ...]
    secure_cookies: bool
    max_upload_bytes: int
    api_rate: int
    login_rate: int
    lockout_failures: int
    lockout_minutes: int
    index_bytes_per_hash: int
    audit_checkpoint_every: int
    phone_region: str
    intake_agency: str
    evidence_retention_days: int
    review_break_minutes: int

    @property
    def secret_key_file(self) -> Path:
        return self.keys_dir / "django-secret"

    def plays(self, role: str) -> bool:
        return role in self.roles


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the settings file ({exc})") from None
    section = data.get("haven", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [haven] must be a table")
    known = {s.key for s in SETTINGS if s.key}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
    return section


def load_config(environ: Mapping[str, str] | None = None) -> HavenConfig:
    """Resolve every setting: the environment wins over the TOML file, which wins over defaults."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HAVEN_DATA_DIR", "./var")).expanduser().resolve()
    config_file = Path(env.get("HAVEN_CONFIG", str(data_dir / "haven.toml"))).expanduser()
    from_file = _read_toml(config_file)

    def raw(setting_env: str) -> str:
        setting = next(s for s in SETTINGS if s.env == setting_env)
        if setting_env in env:
            return env[setting_env]
        if setting.key in from_file:
            value = from_file[setting.key]
            if isinstance(value, list):
                return ",".join(str(v) for v in value)
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        return setting.default.replace("$HAVEN_DATA_DIR", str(data_dir))

    def folder(setting_env: str) -> Path:
        return Path(raw(setting_env)).expanduser().resolve()

    roles = _listed(raw("HAVEN_ROLES"))
    unknown_roles = [r for r in roles if r not in NODE_ROLES]
    if unknown_roles or not roles:
        raise ConfigError(
            f"HAVEN_ROLES must list some of {', '.join(NODE_ROLES)}, got {raw('HAVEN_ROLES')!r}"
        )
    return HavenConfig(
        data_dir=data_dir,
        database=parse_database_url(raw("HAVEN_DATABASE_URL")),
        roles=roles,
        keys_dir=folder("HAVEN_KEYS_DIR"),
        media_dir=folder("HAVEN_MEDIA_DIR"),
        evidence_dir=folder("HAVEN_EVIDENCE_DIR"),
        node_name=raw("HAVEN_NODE_NAME").strip() or "haven",
        debug=_flag("HAVEN_DEBUG", raw("HAVEN_DEBUG")),
        allowed_hosts=_listed(raw("HAVEN_ALLOWED_HOSTS")),
        secure_cookies=_flag("HAVEN_SECURE_COOKIES", raw("HAVEN_SECURE_COOKIES")),
        max_upload_bytes=_integer("HAVEN_MAX_UPLOAD_BYTES", raw("HAVEN_MAX_UPLOAD_BYTES"), 1024),
        api_rate=_integer("HAVEN_API_RATE", raw("HAVEN_API_RATE"), 1),
        login_rate=_integer("HAVEN_LOGIN_RATE", raw("HAVEN_LOGIN_RATE"), 1),
        lockout_failures=_integer("HAVEN_LOCKOUT_FAILURES", raw("HAVEN_LOCKOUT_FAILURES"), 1),
        lockout_minutes=_integer("HAVEN_LOCKOUT_MINUTES", raw("HAVEN_LOCKOUT_MINUTES"), 1),
        index_bytes_per_hash=_integer(
            "HAVEN_INDEX_BYTES_PER_HASH", raw("HAVEN_INDEX_BYTES_PER_HASH"), 64
        ),
        audit_checkpoint_every=_integer(
            "HAVEN_AUDIT_CHECKPOINT_EVERY", raw("HAVEN_AUDIT_CHECKPOINT_EVERY"), 1
        ),
        phone_region=_region("HAVEN_PHONE_REGION", raw("HAVEN_PHONE_REGION")),
        intake_agency=raw("HAVEN_INTAKE_AGENCY").strip()[:200],
        evidence_retention_days=_integer(
            "HAVEN_EVIDENCE_RETENTION_DAYS", raw("HAVEN_EVIDENCE_RETENTION_DAYS"), 1
        ),
        review_break_minutes=_integer(
            "HAVEN_REVIEW_BREAK_MINUTES", raw("HAVEN_REVIEW_BREAK_MINUTES"), 1
        ),
    )


def ensure_private_dir(path: Path) -> Path:
    """Create a folder readable by its owner only (0700), tightening an existing one."""
    path.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o700)
    return path


def write_private_file(path: Path, data: bytes) -> None:
    """Write a secret atomically with mode 0600: a crash leaves the old file or the new one."""
    ensure_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def secret_key(config: HavenConfig) -> str:
    """Django's SECRET_KEY, created on first run in the keys folder."""
    path = config.secret_key_file
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(50).encode())
    return path.read_text().strip()
