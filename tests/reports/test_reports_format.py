"""Haven's report format: parsing, its errors, its limits, its round trip and its schema.

The intake trusts `parse_report` to turn any request body into a `Report` or a precise
`ReportFormatError`; these tests hold it to that. All values are synthetic: example.org
addresses, documentation IP ranges, fictional US 555-01xx phone numbers.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from haven.reports.format import (
    MAX_LISTED_PROBLEMS,
    MAX_REPORT_JSON_CHARS,
    SCHEMA_ID,
    SCHEMA_VERSION,
    Contact,
    FileAnnotation,
    FormatProblem,
    Incident,
    IncidentAnnotation,
    IncidentType,
    IndustryClassification,
    IpEventKind,
    Location,
    LocationKind,
    Report,
    Reporter,
    ReportFormatError,
    parse_report,
    report_json,
    report_schema,
    report_schema_text,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "haven-report-1.json"
MD5 = "0123456789abcdef0123456789abcdef"
SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "ab" * 32
PDQ = "f0" * 32


def valid_report_dict() -> dict[str, Any]:
    """A complete, synthetic report as JSON data, every part filled."""
    return {
        "schema_version": "1",
        "report_id": "demo-report:0001",
        "created_at": "2026-03-01T10:00:00Z",
        "synthetic": True,
        "incident": {
            "type": "child_sexual_abuse_material",
            "occurred_at": "2026-02-28T21:15:00+01:00",
            "escalation": {"reason": "Synthetic test: marked urgent to exercise escalation."},
            "annotations": ["spam", "minor_to_minor"],
        },
        "locations": [
            {"kind": "web_page", "url": "https://photos.example.org/p/123"},
            {"kind": "chat", "identifier": "room-demo-7"},
        ],
        "reporter": {
            "provider": "Example Photos (synthetic)",
            "contact": {
                "name": "Alex Example",
                "email": "trust@example.org",
                "phone": "+12025550142",
            },
            "terms_of_service_url": "https://example.org/terms",
            "legal_url": "https://example.org/legal",
        },
        "reported_accounts": [
            {
                "platform_ids": ["user-1001", "user-1001-old"],
                "screen_names": ["demo_uploader"],
                "profile_urls": ["https://photos.example.org/u/demo_uploader"],
                "ip_events": [
                    {
                        "ip": "192.0.2.10",
                        "port": 51514,
                        "at": "2026-02-28T21:10:00Z",
                        "kind": "login",
                    },
                    {"ip": "2001:db8::7", "at": "2026-02-28T21:14:00Z", "kind": "upload"},
                ],
                "device_ids": [{"type": "IDFA", "value": "00000000-demo-0000-0000-000000000001"}],
                "estimated_location": {"city": "Springfield", "country_code": "US"},
            }
        ],
        "victims": [{"platform_ids": ["user-2002"], "estimated_age": 14, "school": "Demo School"}],
        "files": [
            {
                "file_id": "file-1",
                "name": "stored-1.jpg",
                "original_name": "holiday.jpg",
                "size": 123456,
                "md5": MD5,
                "sha1": SHA1,
                "sha256": SHA256,
                "pdq": PDQ,
                "uploaded_from": {
                    "ip": "192.0.2.10",
                    "at": "2026-02-28T21:14:00Z",
                    "kind": "upload",
                },
                "viewed_by_provider": True,
                "exif_viewed_by_provider": False,
                "publicly_available": False,
                "relevance": "reported",
                "annotations": ["viral"],
                "classification": "B2",
                "encrypted_content": {
                    "algorithm": "x25519-xsalsa20-poly1305-sealedbox+aes-256-gcm",
                    "recipient_key_id": "authority-node-key-1",
                    "sha256_of_ciphertext": "cd" * 32,
                    "size": 123500,
                },
            },
            {
                "file_id": "file-2",
                "name": "stored-2.png",
                "md5": "fedcba9876543210fedcba9876543210",
                "viewed_by_provider": False,
                "exif_viewed_by_provider": False,
                "relevance": "supplemental",
            },
        ],
        "ads": [
            {
                "ad_id": "ad-77",
                "url": "https://ads.example.org/77",
                "text": "Synthetic ad text for a test.",
                "posted_at": "2026-02-27T08:00:00Z",
                "phones": ["+12025550199"],
                "cluster_id": "cluster-3",
            }
        ],
        "additional_info": "Synthetic report built for tests.",
    }


def minimal_report_dict() -> dict[str, Any]:
    return {
        "schema_version": "1",
        "report_id": "r1",
        "created_at": "2026-03-01T10:00:00Z",
        "incident": {"type": "online_enticement", "occurred_at": "2026-03-01T09:00:00Z"},
        "reporter": {
            "provider": "Example",
            "contact": {"name": "Sam", "email": "sam@example.org"},
        },
        "locations": [{"kind": "gaming", "identifier": "demo-game"}],
    }


def problems_of(data: object) -> list[FormatProblem]:
    with pytest.raises(ReportFormatError) as caught:
        parse_report(data)
    return caught.value.problems


def paths_of(data: object) -> set[str]:
    return {problem.path for problem in problems_of(data)}


def _walk(value: Any) -> list[Any]:
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found.extend(_walk(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_walk(item))
    return found


# --- strategies -------------------------------------------------------------------------

# Generated values never spell "None": the XML tests look for that word as a sign of a
# missing value written out.
_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=12,
).filter(lambda t: "None" not in t)
_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1), timezones=_zones
).map(datetime.isoformat)


def _hex(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789abcdef", min_size=length, max_size=length)


_identifier = st.text(alphabet="ABCxyz019._:-", min_size=1, max_size=20)
_url = st.from_regex(r"\Ahttps://[a-z]{1,8}\.example\.org/[a-z0-9]{0,8}\Z")
_phone = st.integers(100, 199).map(lambda n: f"+1202555{n:04d}")
_ip = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


_ip_event = st.builds(
    _drop_none,
    ip=_ip,
    port=_optional(st.integers(1, 65535)),
    at=_moments,
    kind=st.sampled_from([kind.value for kind in IpEventKind]),
)
_estimated_location = st.builds(
    _drop_none, city=_line, region=_optional(_line), country_code=_optional(st.just("FR"))
)
_location = st.builds(
    _drop_none,
    kind=st.sampled_from([kind.value for kind in LocationKind]),
    url=_url,
    identifier=_optional(_line),
)
_account = st.builds(
    _drop_none,
    platform_ids=st.lists(_line, min_size=1, max_size=3, unique=True),
    screen_names=st.lists(_line, max_size=2, unique=True),
    profile_urls=st.lists(_url, max_size=2, unique=True),
    ip_events=st.lists(_ip_event, max_size=3),
    device_ids=st.lists(st.builds(dict, type=_line, value=_line), max_size=2),
    estimated_location=_optional(_estimated_location),
)
_victim = st.builds(
    _drop_none,
    platform_ids=st.lists(_line, max_size=2, unique=True),
    estimated_age=_optional(st.integers(0, 17)),
    school=_optional(_line),
    location=_optional(_estimated_location),
)


@st.composite
def _file(draw: st.DrawFn, file_id: str) -> dict[str, Any]:
    relevance = draw(st.sampled_from(["reported", "supplemental"]))
    annotations = draw(st.lists(st.sampled_from(list(FileAnnotation)), unique=True))
    classification = draw(_optional(st.sampled_from([c.value for c in IndustryClassification])))
    if relevance == "supplemental":
        classification = None
        annotations = [a for a in annotations if a is not FileAnnotation.MEME]
    return _drop_none(
        file_id=file_id,
        name=draw(_line),
        original_name=draw(_optional(_line)),
        size=draw(_optional(st.integers(0, 10**12))),
        md5=draw(_hex(32)),
        sha1=draw(_optional(_hex(40))),
        sha256=draw(_optional(_hex(64))),
        pdq=draw(_optional(_hex(64))),
        uploaded_from=draw(_optional(_ip_event)),
        viewed_by_provider=draw(st.booleans()),
        exif_viewed_by_provider=draw(st.booleans()),
        publicly_available=draw(_optional(st.booleans())),
        relevance=relevance,
        annotations=[a.value for a in annotations],
        classification=classification,
    )


@st.composite
def report_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Valid synthetic reports as JSON data, in all their shapes."""
    file_ids = draw(st.lists(_identifier, max_size=3, unique=True))
    ads = draw(
        st.lists(
            st.builds(
                _drop_none,
                ad_id=_line,
                url=_optional(_url),
                text=_optional(
                    st.text(max_size=40).filter(lambda t: t.isprintable() and t and "None" not in t)
                ),
                posted_at=_optional(_moments),
                phones=st.lists(_phone, max_size=2, unique=True),
                cluster_id=_optional(_line),
            ),
            max_size=2,
            unique_by=lambda ad: ad["ad_id"],
        )
    )
    locations = draw(st.lists(_location, min_size=0 if file_ids or ads else 1, max_size=2))
    escalation = draw(_optional(st.builds(dict, reason=_line)))
    return _drop_none(
        schema_version="1",
        report_id=draw(_identifier),
        created_at=draw(_moments),
        synthetic=draw(st.booleans()),
        incident=_drop_none(
            type=draw(st.sampled_from([t.value for t in IncidentType])),
            occurred_at=draw(_moments),
            escalation=escalation,
            annotations=draw(
                st.lists(st.sampled_from([a.value for a in IncidentAnnotation]), unique=True)
            ),
        ),
        locations=locations,
        reporter=_drop_none(
            provider=draw(_line),
            contact=_drop_none(
                name=draw(_line), email="desk@example.org", phone=draw(_optional(_phone))
            ),
            terms_of_service_url=draw(_optional(_url)),
        ),
        reported_accounts=draw(st.lists(_account, max_size=2)),
        victims=draw(st.lists(_victim, max_size=2)),
        files=[draw(_file(file_id)) for file_id in file_ids],
        ads=ads,
        additional_info=draw(_optional(_line)),
    )


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_like = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)


@st.composite
def damaged_reports(draw: st.DrawFn) -> object:
    """A valid report with one value somewhere replaced by arbitrary JSON-like data."""
    data = draw(report_dicts())
    containers: list[Any] = [value for value in _walk(data) if isinstance(value, dict | list)]
    target = draw(st.sampled_from(containers))
    replacement = draw(json_like)
    if isinstance(target, dict) and target:
        target[draw(st.sampled_from(sorted(target)))] = replacement
    elif isinstance(target, list) and target:
        target[draw(st.integers(0, len(target) - 1))] = replacement
    elif isinstance(target, dict):
        target[draw(st.text(max_size=8))] = replacement
    else:
        target.append(replacement)
    return data


# --- parsing valid reports ----------------------------------------------------------------


def test_a_complete_report_parses_into_typed_values() -> None:
    report = parse_report(valid_report_dict())
    assert report.schema_version == SCHEMA_VERSION
    assert report.synthetic is True
    assert report.incident.type is IncidentType.CHILD_SEXUAL_ABUSE_MATERIAL
    assert report.incident.escalation is not None
    assert report.created_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert report.incident.occurred_at == datetime(2026, 2, 28, 20, 15, tzinfo=UTC)
    assert report.files[0].classification is IndustryClassification.B2
    assert report.files[1].classification is None
    assert report.reported_accounts[0].ip_events[1].ip == "2001:db8::7"
    assert report.ads[0].phones == ("+12025550199",)


def test_a_minimal_report_parses_with_defaults() -> None:
    report = parse_report(minimal_report_dict())
    assert report.synthetic is False
    assert report.files == () and report.ads == () and report.victims == ()
    assert report.incident.escalation is None


@pytest.mark.parametrize("builder", [valid_report_dict, minimal_report_dict])
def test_report_json_round_trips_and_is_canonical(builder: Any) -> None:
    report = parse_report(builder())
    data = report_json(report)
    assert parse_report(data) == report
    assert report_json(parse_report(data)) == data
    assert json.loads(json.dumps(data)) == data
    assert all(value is not None for value in _walk(data))
    assert data["created_at"] == "2026-03-01T10:00:00Z"


def test_times_keep_their_timezone_in_json() -> None:
    data = report_json(parse_report(valid_report_dict()))
    assert data["incident"]["occurred_at"] == "2026-02-28T21:15:00+01:00"


def test_ip_addresses_are_written_canonically() -> None:
    data = valid_report_dict()
    data["reported_accounts"][0]["ip_events"][1]["ip"] = "2001:0DB8:0000::0007"
    report = parse_report(data)
    assert report.reported_accounts[0].ip_events[1].ip == "2001:db8::7"


def test_models_are_frozen() -> None:
    report = parse_report(valid_report_dict())
    with pytest.raises(ValidationError):
        report.report_id = "other"
    assert isinstance(report.files, tuple)


def test_reports_can_be_built_in_code_and_serialise() -> None:
    report = Report(
        schema_version="1",
        report_id="built-in-code",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        synthetic=True,
        incident=Incident(
            type=IncidentType.ONLINE_ENTICEMENT, occurred_at=datetime(2026, 1, 1, tzinfo=UTC)
        ),
        reporter=Reporter(provider="Example", contact=Contact(name="Sam", email="sam@example.org")),
        locations=(Location(kind=LocationKind.EMAIL, identifier="someone@example.org"),),
    )
    assert parse_report(report_json(report)) == report
    with pytest.raises(ValidationError):
        Incident(type=IncidentType.ONLINE_ENTICEMENT, occurred_at=datetime(2026, 1, 1))


# --- bad input ----------------------------------------------------------------------------


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("where", "value", "expected_path"),
    [
        (["files", 1, "md5"], "FEDCBA9876543210FEDCBA9876543210", "files[1].md5"),
        (["files", 0, "pdq"], "f0" * 31 + "f", "files[0].pdq"),
        (["files", 0, "sha1"], SHA256, "files[0].sha1"),
        (["files", 0, "size"], 1.5, "files[0].size"),
        (["files", 0, "size"], -1, "files[0].size"),
        (["files", 0, "viewed_by_provider"], "true", "files[0].viewed_by_provider"),
        (["files", 0, "classification"], "C3", "files[0].classification"),
        (["files", 0, "annotations"], ["viral", "viral"], "files[0].annotations"),
        (["files", 0, "relevance"], "Reported", "files[0].relevance"),
        (
            ["files", 0, "encrypted_content", "algorithm"],
            "aes-128-cbc",
            "files[0].encrypted_content.algorithm",
        ),
        (["incident", "type"], "Child Sex Trafficking", "incident.type"),
        (["incident", "annotations", 0], "other", "incident.annotations[0]"),
        (["incident", "occurred_at"], "2026-02-28T21:15:00", "incident.occurred_at"),
        (["incident", "occurred_at"], 1_772_000_000, "incident.occurred_at"),
        (["incident", "colour"], "blue", "incident.colour"),
        (["created_at"], "yesterday", "created_at"),
        (["schema_version"], "2", "schema_version"),
        (["schema_version"], 1, "schema_version"),
        (["report_id"], "has space", "report_id"),
        (["report_id"], "r" * 101, "report_id"),
        (
            ["reported_accounts", 0, "ip_events", 0, "ip"],
            "999.0.2.10",
            "reported_accounts[0].ip_events[0].ip",
        ),
        (
            ["reported_accounts", 0, "ip_events", 0, "ip"],
            "fe80::1%eth0",
            "reported_accounts[0].ip_events[0].ip",
        ),
        (
            ["reported_accounts", 0, "ip_events", 0, "port"],
            0,
            "reported_accounts[0].ip_events[0].port",
        ),
        (
            ["reported_accounts", 0, "ip_events", 0, "kind"],
            "logout",
            "reported_accounts[0].ip_events[0].kind",
        ),
        (
            ["reported_accounts", 0, "estimated_location", "country_code"],
            "usa",
            "reported_accounts[0].estimated_location.country_code",
        ),
        (["victims", 0, "estimated_age"], 18, "victims[0].estimated_age"),
        (["ads", 0, "phones", 0], "202-555-0199", "ads[0].phones[0]"),
        (["ads", 0, "url"], "javascript:alert(1)", "ads[0].url"),
        (["reporter", "contact", "email"], "not an email", "reporter.contact.email"),
        (["reporter", "contact", "name"], "two\nlines", "reporter.contact.name"),
        (["additional_info"], "bell \x07 here", "additional_info"),
        (["additional_info"], "", "additional_info"),
        (["locations", 0, "kind"], "fax", "locations[0].kind"),
    ],
)
def test_each_bad_field_is_named_by_its_path(
    where: list[Any], value: Any, expected_path: str
) -> None:
    data = _set(valid_report_dict(), where, value)
    problems = problems_of(data)
    assert [p.path for p in problems] == [expected_path], problems
    assert problems[0].problem


@pytest.mark.parametrize(
    ("change", "expected_path", "words"),
    [
        (lambda d: d["files"][1].update(file_id="file-1"), "files", "file_id"),
        (lambda d: d["ads"].append(dict(d["ads"][0])), "ads", "ad_id"),
        (lambda d: d["files"][1].update(classification="A1"), "files[1]", "supplemental"),
        (lambda d: d["files"][1].update(annotations=["meme"]), "files[1]", "meme"),
        (lambda d: d["files"][1].pop("md5"), "files[1]", "hash"),
        (lambda d: d["locations"][1].pop("identifier"), "locations[1]", "url or an identifier"),
        (
            lambda d: d["reported_accounts"][0].update(
                platform_ids=[], screen_names=[], profile_urls=[]
            ),
            "reported_accounts[0]",
            "platform_id",
        ),
        (
            lambda d: d["reported_accounts"][0].update(estimated_location={}),
            "reported_accounts[0].estimated_location",
            "city",
        ),
        (
            lambda d: [d.pop(key) for key in ("files", "ads", "locations")],
            "",
            "files, ads or locations",
        ),
        (lambda d: d.pop("reporter"), "reporter", "required"),
    ],
)
def test_rules_across_fields_are_named_too(change: Any, expected_path: str, words: str) -> None:
    data = valid_report_dict()
    change(data)
    problems = problems_of(data)
    assert [p.path for p in problems] == [expected_path], problems
    assert words in problems[0].problem


def test_every_problem_is_listed_at_once() -> None:
    data = valid_report_dict()
    data["files"][0]["md5"] = "x"
    data["incident"]["type"] = "x"
    del data["report_id"]
    assert paths_of(data) == {"files[0].md5", "incident.type", "report_id"}


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "report",
        42,
        4.2,
        True,
        b"{}",
        math.nan,
        ["schema_version", "1"],
        {1: 2},
        {(1,): 2},
    ],
)
def test_anything_that_is_not_a_report_is_a_format_error(data: object) -> None:
    assert problems_of(data)


def test_values_json_cannot_carry_are_located() -> None:
    data = valid_report_dict()
    data["files"][0]["size"] = math.nan
    assert paths_of(data) == {"files[0].size"}
    data = valid_report_dict()
    data["victims"][0]["school"] = "lone \ud800 surrogate"
    assert paths_of(data) == {"victims[0].school"}
    data = valid_report_dict()
    data["ads"][0]["posted_at"] = datetime(2026, 1, 1, tzinfo=UTC)  # an object, not JSON
    assert paths_of(data) == {"ads[0].posted_at"}
    data = valid_report_dict()
    data["incident"]["self"] = data["incident"]
    assert paths_of(data) == {"incident.self"}


def test_deep_nesting_is_a_format_error() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    data = valid_report_dict()
    data["additional_info"] = deep
    assert problems_of(data)
    nested: Any = {}
    inner = nested
    for _ in range(300):
        inner["a"] = {}
        inner = inner["a"]
    assert problems_of({"incident": nested})


def test_odd_keys_are_quoted_in_paths() -> None:
    data = valid_report_dict()
    data["incident"]["not.a field"] = 1
    assert paths_of(data) == {"incident['not.a field']"}


def test_the_error_is_a_value_error_and_reads_well() -> None:
    data = valid_report_dict()
    data["files"][1]["md5"] = "XYZ"
    with pytest.raises(ValueError, match=r"files\[1\]\.md5: does not match the pattern") as caught:
        parse_report(data)
    assert isinstance(caught.value, ReportFormatError)
    assert str(caught.value).startswith("not a valid Haven report (1 problem)")
    assert str(FormatProblem("", "x")) == "(report): x"


# --- limits -------------------------------------------------------------------------------


def test_free_text_is_bounded() -> None:
    data = valid_report_dict()
    data["additional_info"] = "a" * 10_000
    parse_report(data)
    data["additional_info"] = "a" * 10_001
    assert paths_of(data) == {"additional_info"}


def test_lists_are_bounded() -> None:
    data = minimal_report_dict()
    data["files"] = [
        {
            "file_id": f"f{i}",
            "name": "n",
            "md5": MD5,
            "viewed_by_provider": False,
            "exif_viewed_by_provider": False,
            "relevance": "reported",
        }
        for i in range(1001)
    ]
    assert paths_of(data) == {"files"}
    data["files"] = data["files"][:1000]
    assert len(parse_report(data).files) == 1000
    data = minimal_report_dict()
    data["locations"] = [{"kind": "chat", "identifier": "room"}] * 101
    assert paths_of(data) == {"locations"}


def test_an_oversized_body_is_refused_before_parsing() -> None:
    data = minimal_report_dict()
    data["additional_info"] = "a" * (MAX_REPORT_JSON_CHARS + 1)
    problems = problems_of(data)
    assert [p.path for p in problems] == [""]
    assert "larger than" in problems[0].problem


def test_the_number_of_listed_problems_is_capped() -> None:
    data = minimal_report_dict()
    data["files"] = [{"file_id": "bad id", "md5": "x"} for _ in range(200)]
    problems = problems_of(data)
    assert len(problems) == MAX_LISTED_PROBLEMS
    assert "more problems not listed" in problems[-1].problem


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(json_like)
def test_any_json_like_input_gives_a_report_or_a_format_error(data: object) -> None:
    try:
        parse_report(data)
    except ReportFormatError as error:
        assert error.problems
        assert all(isinstance(problem, FormatProblem) for problem in error.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_reports())
def test_a_damaged_report_gives_a_report_or_a_format_error(data: object) -> None:
    try:
        report = parse_report(data)
    except ReportFormatError as error:
        assert error.problems and str(error)
    else:
        assert parse_report(report_json(report)) == report


_VALIDATOR = jsonschema_rs.Draft202012Validator(report_schema(), validate_formats=True)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_dicts())
def test_a_valid_report_survives_the_round_trip_and_meets_the_schema(data: dict[str, Any]) -> None:
    report = parse_report(copy.deepcopy(data))
    canonical = report_json(report)
    assert parse_report(canonical) == report
    assert report_json(parse_report(canonical)) == canonical
    _VALIDATOR.validate(canonical)
    _VALIDATOR.validate(data)


# --- the published schema -----------------------------------------------------------------


def test_the_published_schema_file_is_the_generated_schema() -> None:
    regenerate = (
        '.venv/bin/python -c "from haven.reports.format import report_schema_text; '
        "open('docs/schemas/haven-report-1.json', 'w').write(report_schema_text())\""
    )
    published = SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(published) == report_schema(), f"re-publish the schema: {regenerate}"
    assert published == report_schema_text(), f"re-publish the schema: {regenerate}"


def test_the_schema_is_draft_2020_12_with_its_identity() -> None:
    schema = report_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"] and schema["description"]
    assert "schema_version" in schema["required"]
    assert jsonschema_rs.meta.is_valid(schema)


def test_every_field_in_the_schema_is_described() -> None:
    schema = report_schema()
    objects = [schema, *schema["$defs"].values()]
    undocumented = [
        f"{obj.get('title')}.{name}"
        for obj in objects
        for name, field in obj.get("properties", {}).items()
        if not field.get("description")
    ]
    assert undocumented == []
    assert all(definition.get("description") for definition in schema["$defs"].values())


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (["files", 0, "md5"], "XYZ"),
        (["incident", "type"], "other"),
        (["incident", "colour"], "blue"),
        (["victims", 0, "estimated_age"], 18),
        (["report_id"], "has space"),
        (["ads", 0, "phones", 0], "555-0199"),
    ],
)
def test_the_schema_refuses_what_the_parser_refuses(where: list[Any], value: Any) -> None:
    data = _set(valid_report_dict(), where, value)
    assert not _VALIDATOR.is_valid(data)
    assert problems_of(data)
