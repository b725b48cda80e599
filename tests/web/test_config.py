"""Configuration: environment over TOML over defaults, strict parsing, private secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.web.config import (
    SETTINGS,
    ConfigError,
    load_config,
    parse_database_url,
    secret_key,
    write_private_file,
)

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_put_all_state_under_the_data_dir(tmp_path: Path) -> None:
    config = load_config({"HAVEN_DATA_DIR": str(tmp_path)})
    assert config.database.engine == "sqlite"
    assert Path(config.database.name) == tmp_path / "haven.sqlite3"
    for folder in (config.keys_dir, config.media_dir, config.evidence_dir):
        assert folder.parent == tmp_path
    assert config.roles == ("provider", "authority", "protection")
    assert config.secure_cookies is True and config.debug is False
    assert config.phone_region == "US"


def test_the_phone_region_is_read_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "haven.toml").write_text('[haven]\nphone_region = "fr"\n')
    assert load_config({"HAVEN_DATA_DIR": str(tmp_path)}).phone_region == "FR"
    env = {"HAVEN_DATA_DIR": str(tmp_path), "HAVEN_PHONE_REGION": " au "}
    assert load_config(env).phone_region == "AU"


def test_environment_wins_over_the_toml_file(tmp_path: Path) -> None:
    (tmp_path / "haven.toml").write_text(
        '[haven]\nroles = ["provider"]\nnode_name = "from-file"\napi_rate = 50\n'
    )
    config = load_config({"HAVEN_DATA_DIR": str(tmp_path), "HAVEN_NODE_NAME": "from-env"})
    assert config.roles == ("provider",)
    assert config.node_name == "from-env"
    assert config.api_rate == 50


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HAVEN_ROLES", "provider,police", "HAVEN_ROLES"),
        ("HAVEN_DEBUG", "maybe", "true or false"),
        ("HAVEN_API_RATE", "fast", "whole number"),
        ("HAVEN_MAX_UPLOAD_BYTES", "10", "at least"),
        ("HAVEN_DATABASE_URL", "mysql://x/y", "unsupported scheme"),
        ("HAVEN_PHONE_REGION", "XX", "HAVEN_PHONE_REGION must be an ISO country code"),
        ("HAVEN_PHONE_REGION", "", "HAVEN_PHONE_REGION"),
    ],
)
def test_bad_settings_are_refused_by_name(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({"HAVEN_DATA_DIR": str(tmp_path), variable: value})


def test_unknown_toml_keys_are_refused(tmp_path: Path) -> None:
    (tmp_path / "haven.toml").write_text("[haven]\nrolez = ['provider']\n")
    with pytest.raises(ConfigError, match="unknown settings rolez"):
        load_config({"HAVEN_DATA_DIR": str(tmp_path)})


def test_postgresql_urls_are_parsed() -> None:
    db = parse_database_url("postgresql://hv:p%40ss@db.example:6543/haven?sslmode=require")
    assert (db.engine, db.user, db.password, db.host, db.port, db.name) == (
        "postgresql",
        "hv",
        "p@ss",
        "db.example",
        6543,
        "haven",
    )
    assert db.options == {"sslmode": "require"}


@pytest.mark.parametrize(
    "url", ["", "haven.db", "sqlite://", "sqlite:///", "postgresql://host/", "redis://x/1"]
)
def test_malformed_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_database_url(url)


@given(st.text(max_size=80))
def test_database_url_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_database_url(text)
    except ConfigError:
        return
    assert parsed.engine in ("sqlite", "postgresql") and parsed.name


@given(
    st.text(alphabet=st.characters(blacklist_characters="\x00/%"), min_size=1, max_size=40).filter(
        lambda s: s == s.strip()  # surrounding whitespace of the whole URL is dropped
    )
)
def test_sqlite_paths_round_trip(name: str) -> None:
    assert parse_database_url(f"sqlite:////tmp/{name}").name == f"/tmp/{name}"


def test_secrets_are_created_once_and_private(tmp_path: Path) -> None:
    config = load_config({"HAVEN_DATA_DIR": str(tmp_path)})
    first = secret_key(config)
    assert secret_key(config) == first and len(first) >= 50
    mode = stat.S_IMODE(config.secret_key_file.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(config.keys_dir.stat().st_mode) == 0o700


def test_private_files_are_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    write_private_file(target, b"one")
    write_private_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_every_setting_is_documented_in_the_operator_guide() -> None:
    guide = (ROOT / "docs" / "operator-guide.md").read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in guide]
    assert not missing, f"undocumented in docs/operator-guide.md: {missing}"
