"""Haven's report format: what a provider sends to an authority's intake, version 1.

Why a format of our own: a national authority's intake must accept reports from any
provider, check them before storing them, and answer a precise error when one is wrong. The
field set follows the CyberTipline reporting API's (see
`../shared/reference/reports-and-takedown.md`), so that a provider fills one form for both
destinations, and `haven.reports.cybertip_xml` renders the same `Report` as CyberTipline XML.

The pydantic models below are the single definition: the published JSON Schema
(`docs/schemas/haven-report-1.json`, draft 2020-12) is generated from them by
`report_schema()`, `parse_report()` validates incoming JSON against them, and
`report_json()` writes the canonical form (`parse_report(report_json(r)) == r`).

Parsing is strict JSON: booleans are `true`/`false` only, numbers are numbers, times are
ISO 8601 strings with a timezone. Every string and list is bounded, and text may not hold
control characters (they cannot travel in XML 1.0). Whatever the input, `parse_report`
answers a `Report` or raises `ReportFormatError` listing each problem with its path
(`files[2].md5`), never another exception. No Django import: both the provider and the
authority side, and tools outside Haven, import this module.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "MAX_REPORT_JSON_CHARS",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "Ad",
    "Contact",
    "DeviceIdentifier",
    "EncryptedContent",
    "Escalation",
    "EstimatedLocation",
    "FileAnnotation",
    "FileRelevance",
    "FormatProblem",
    "Incident",
    "IncidentAnnotation",
    "IncidentType",
    "IndustryClassification",
    "IpEvent",
    "IpEventKind",
    "Location",
    "LocationKind",
    "Report",
    "ReportFile",
    "ReportFormatError",
    "ReportedAccount",
    "Reporter",
    "Victim",
    "parse_report",
    "report_json",
    "report_schema",
    "report_schema_text",
]

SCHEMA_VERSION: Final = "1"
SCHEMA_ID: Final = "https://haven.example/schemas/report-1.json"

#: The largest report accepted, in characters of compact JSON; checked before validation so
#: that an oversized body costs one measurement, not a parse.
MAX_REPORT_JSON_CHARS: Final = 8_000_000
#: At most this many problems are listed in one ReportFormatError (garbage input can have
#: thousands); a last entry says how many more there were.
MAX_LISTED_PROBLEMS: Final = 100

# XML 1.0 cannot carry C0 controls (except tab, LF, CR) nor U+FFFE/U+FFFF; one-line values
# carry no tab or line break either. Written with \xHH escapes and literal characters so
# that the same pattern reads the same in ECMA-262 (JSON Schema) and in Rust (pydantic).
_LINE_PATTERN: Final = "^[^\\x00-\\x1f\\x7f\ufffe\uffff]*$"
_TEXT_PATTERN: Final = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\ufffe\uffff]*$"


def _line(max_length: int, min_length: int = 1) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=_LINE_PATTERN)


def _text(max_length: int) -> Any:
    return StringConstraints(min_length=1, max_length=max_length, pattern=_TEXT_PATTERN)


Line256 = Annotated[str, _line(256)]
Text3000 = Annotated[str, _text(3000)]
Text10000 = Annotated[str, _text(10_000)]
Url = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2083, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$"),
]
Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"),
]
E164Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
]
Md5 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Sha1 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

_T = TypeVar("_T")


def _unique(items: tuple[_T, ...]) -> tuple[_T, ...]:
    if len(set(items)) != len(items):
        raise ValueError("must not list the same value twice")
    return items


def _ip_address(value: str) -> str:
    if "%" in value:
        raise ValueError("must be an IP address without a zone index")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address") from None
    return str(address)


IpAddress = Annotated[
    str,
    StringConstraints(min_length=2, max_length=45),
    AfterValidator(_ip_address),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- enumerations ----------------------------------------------------------------------


class IncidentType(StrEnum):
    """Type of incident, one of the CyberTipline's eight incident types (snake_case)."""

    CHILD_SEXUAL_ABUSE_MATERIAL = "child_sexual_abuse_material"
    CHILD_SEX_TRAFFICKING = "child_sex_trafficking"
    CHILD_SEX_TOURISM = "child_sex_tourism"
    CHILD_SEXUAL_MOLESTATION = "child_sexual_molestation"
    MISLEADING_DOMAIN_NAME = "misleading_domain_name"
    MISLEADING_WORDS_OR_IMAGES = "misleading_words_or_images"
    ONLINE_ENTICEMENT = "online_enticement"
    UNSOLICITED_OBSCENE_MATERIAL_TO_CHILD = "unsolicited_obscene_material_to_child"


class IncidentAnnotation(StrEnum):
    """A tag describing the incident as a whole."""

    SEXTORTION = "sextortion"
    SOLICITATION = "solicitation"
    MINOR_TO_MINOR = "minor_to_minor"
    SPAM = "spam"


class LocationKind(StrEnum):
    """Where the incident happened."""

    WEB_PAGE = "web_page"
    CHAT = "chat"
    EMAIL = "email"
    PEER_TO_PEER = "peer_to_peer"
    GAMING = "gaming"
    PHONE = "phone"
    AD = "ad"


class IpEventKind(StrEnum):
    """The event at which an IP address was captured."""

    LOGIN = "login"
    REGISTRATION = "registration"
    UPLOAD = "upload"
    PURCHASE = "purchase"
    OTHER = "other"


class FileRelevance(StrEnum):
    """Whether the file is itself reported, or supplements the reported files."""

    REPORTED = "reported"
    SUPPLEMENTAL = "supplemental"


class FileAnnotation(StrEnum):
    """A tag describing one file."""

    GENERATIVE_AI = "generative_ai"
    LIVE_STREAMING = "live_streaming"
    INFANT = "infant"
    SELF_PRODUCTION = "self_production"
    MEME = "meme"
    VIRAL = "viral"
    PHYSICAL_HARM = "physical_harm"
    OTHER = "other"


class IndustryClassification(StrEnum):
    """Industry classification: A = prepubescent, B = pubescent; 1 = sex act, 2 = lascivious
    exhibition."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


# --- parts -----------------------------------------------------------------------------


class Escalation(_Model):
    """Present when the report needs the highest priority (e.g. a child in imminent danger)."""

    reason: Text3000 = Field(description="Why the report is urgent, in the reviewer's words.")


class Incident(_Model):
    """What happened and when."""

    type: IncidentType = Field(description="The incident type.")
    occurred_at: AwareDatetime = Field(
        description="When the incident happened (or was detected), ISO 8601 with a timezone."
    )
    escalation: Escalation | None = Field(
        default=None, description="Set to mark the report high priority; absent otherwise."
    )
    annotations: Annotated[tuple[IncidentAnnotation, ...], AfterValidator(_unique)] = Field(
        default=(),
        max_length=len(IncidentAnnotation),
        json_schema_extra={"uniqueItems": True},
        description="Tags describing the incident, each at most once.",
    )


class Location(_Model):
    """One place where the incident happened; a URL, an identifier, or both."""

    kind: LocationKind = Field(description="The kind of place.")
    url: Url | None = Field(default=None, description="An http(s) URL of the place.")
    identifier: Line256 | None = Field(
        default=None,
        description="An identifier of the place when it has no URL: a chat room, an email "
        "address, a game, a phone number, a peer-to-peer client or share.",
    )

    @model_validator(mode="after")
    def _url_or_identifier(self) -> Self:
        if self.url is None and self.identifier is None:
            raise ValueError("a location needs a url or an identifier")
        return self


class Contact(_Model):
    """The person at the provider whom the authority can contact about the report."""

    name: Line256 = Field(description="The contact person's full name.")
    email: Email = Field(description="The contact person's email address.")
    phone: E164Phone | None = Field(
        default=None, description="The contact person's phone number, E.164 (+ and digits)."
    )


class Reporter(_Model):
    """The provider sending the report."""

    provider: Line256 = Field(description="The provider's name.")
    contact: Contact = Field(description="Whom to contact about the report.")
    terms_of_service_url: Url | None = Field(
        default=None, description="The provider's terms of service."
    )
    legal_url: Url | None = Field(
        default=None,
        description="Where law enforcement sends legal process to the provider.",
    )


class IpEvent(_Model):
    """An IP address captured at an event (login, upload...)."""

    ip: IpAddress = Field(
        description="IPv4 or IPv6 address, written in its compressed canonical form.",
        json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    )
    port: int | None = Field(default=None, ge=1, le=65535, description="The source port.")
    at: AwareDatetime = Field(description="When the address was captured, with a timezone.")
    kind: IpEventKind = Field(description="The event at which it was captured.")


class DeviceIdentifier(_Model):
    """A device identifier seen with the account."""

    type: Line256 = Field(description='The kind of identifier, e.g. "IMEI", "IDFA", "SSID".')
    value: Line256 = Field(description="The identifier's value.")


class EstimatedLocation(_Model):
    """An estimated location of a person or account (from IP geolocation, profile...)."""

    city: Line256 | None = Field(default=None, description="City.")
    region: Line256 | None = Field(default=None, description="Region, state or province.")
    country_code: CountryCode | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country code, upper case."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.city is None and self.region is None and self.country_code is None:
            raise ValueError("an estimated location needs a city, a region or a country_code")
        return self


_UniqueIds = Annotated[tuple[Line256, ...], AfterValidator(_unique)]
_UniqueUrls = Annotated[tuple[Url, ...], AfterValidator(_unique)]


class ReportedAccount(_Model):
    """An account (or person) reported as responsible."""

    platform_ids: _UniqueIds = Field(
        default=(),
        max_length=50,
        json_schema_extra={"uniqueItems": True},
        description="The provider's identifiers of the account; the first is its primary id.",
    )
    screen_names: _UniqueIds = Field(
        default=(),
        max_length=50,
        json_schema_extra={"uniqueItems": True},
        description="Screen names the account used; the first is the current one.",
    )
    profile_urls: _UniqueUrls = Field(
        default=(),
        max_length=50,
        json_schema_extra={"uniqueItems": True},
        description="URLs of the account's profile pages.",
    )
    ip_events: tuple[IpEvent, ...] = Field(
        default=(), max_length=500, description="IP addresses captured for the account."
    )
    device_ids: tuple[DeviceIdentifier, ...] = Field(
        default=(), max_length=50, description="Device identifiers seen with the account."
    )
    estimated_location: EstimatedLocation | None = Field(
        default=None, description="Where the account's user is estimated to be."
    )

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if not (self.platform_ids or self.screen_names or self.profile_urls):
            raise ValueError(
                "a reported account needs a platform_id, a screen_name or a profile_url"
            )
        return self


class Victim(_Model):
    """A child victim, when known."""

    platform_ids: _UniqueIds = Field(
        default=(),
        max_length=50,
        json_schema_extra={"uniqueItems": True},
        description="The provider's identifiers of the victim's accounts.",
    )
    estimated_age: int | None = Field(
        default=None, ge=0, le=17, description="Estimated age in years (0 to 17)."
    )
    school: Line256 | None = Field(default=None, description="The victim's school, if known.")
    location: EstimatedLocation | None = Field(
        default=None, description="Where the victim is estimated to be."
    )


class EncryptedContent(_Model):
    """Metadata of the file's encrypted bytes, which travel beside the report."""

    algorithm: Literal["x25519-xsalsa20-poly1305-sealedbox+aes-256-gcm"] = Field(
        description="A fresh AES-256-GCM key encrypts the content; a NaCl sealed box "
        "(X25519, XSalsa20-Poly1305) wraps that key for the recipient's public key."
    )
    recipient_key_id: Line256 = Field(
        description="Identifier of the recipient node's public key the content is sealed to."
    )
    sha256_of_ciphertext: Sha256 = Field(
        description="SHA-256 of the ciphertext, lower-case hex, to check it on arrival."
    )
    size: int = Field(ge=1, le=10**13, description="Size of the ciphertext in bytes.")


class ReportFile(_Model):
    """A file that the report is about (reported) or that gives context (supplemental)."""

    file_id: Identifier = Field(
        description="The sender's identifier of the file, unique within the report "
        "(1 to 100 characters of A-Z a-z 0-9 . _ : -)."
    )
    name: Line256 = Field(description="The file's name as the provider stores it.")
    original_name: Annotated[str, _line(1024)] | None = Field(
        default=None, description="The file's name as uploaded by the user."
    )
    size: int | None = Field(default=None, ge=0, le=10**13, description="Size in bytes.")
    md5: Md5 | None = Field(default=None, description="MD5 of the file, lower-case hex.")
    sha1: Sha1 | None = Field(default=None, description="SHA-1 of the file, lower-case hex.")
    sha256: Sha256 | None = Field(default=None, description="SHA-256 of the file, lower-case hex.")
    pdq: Sha256 | None = Field(
        default=None, description="PDQ perceptual hash (256 bits), 64 lower-case hex digits."
    )
    uploaded_from: IpEvent | None = Field(
        default=None, description="The IP address the file was uploaded from, when known."
    )
    viewed_by_provider: bool = Field(
        description="Whether a person at the provider viewed the file (an audited reveal); "
        "false for an automatic report of unviewed content."
    )
    exif_viewed_by_provider: bool = Field(
        description="Whether a person at the provider viewed the file's EXIF metadata."
    )
    publicly_available: bool | None = Field(
        default=None, description="Whether the file was publicly available; absent if unknown."
    )
    relevance: FileRelevance = Field(description="Reported or supplemental.")
    annotations: Annotated[tuple[FileAnnotation, ...], AfterValidator(_unique)] = Field(
        default=(),
        max_length=len(FileAnnotation),
        json_schema_extra={"uniqueItems": True},
        description="Tags describing the file, each at most once.",
    )
    classification: IndustryClassification | None = Field(
        default=None,
        description="Industry classification of a reported file; supplemental files have none.",
    )
    encrypted_content: EncryptedContent | None = Field(
        default=None, description="Present when the file's encrypted bytes travel with the report."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not (self.md5 or self.sha1 or self.sha256 or self.pdq):
            raise ValueError("a file needs at least one hash (md5, sha1, sha256 or pdq)")
        if self.relevance is FileRelevance.SUPPLEMENTAL and (
            self.classification is not None or FileAnnotation.MEME in self.annotations
        ):
            raise ValueError("a supplemental file carries no classification and no meme annotation")
        return self


class Ad(_Model):
    """An online advertisement tied to the incident (e.g. one ad of a linked cluster)."""

    ad_id: Line256 = Field(description="The sender's identifier of the ad, unique in the report.")
    url: Url | None = Field(default=None, description="Where the ad was published.")
    text: Text10000 | None = Field(default=None, description="The ad's text as published.")
    posted_at: AwareDatetime | None = Field(default=None, description="When it was posted.")
    phones: Annotated[tuple[E164Phone, ...], AfterValidator(_unique)] = Field(
        default=(),
        max_length=20,
        json_schema_extra={"uniqueItems": True},
        description="Contact phone numbers in the ad, E.164.",
    )
    cluster_id: Line256 | None = Field(
        default=None, description="The sender's identifier of the cluster of linked ads."
    )


def _duplicates(values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    twice: list[str] = []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice


class Report(_Model):
    """A report from a provider to an authority about child sexual exploitation."""

    model_config = ConfigDict(
        title="Haven report",
        json_schema_extra={
            "description": "A report from a provider to an authority's intake about child "
            "sexual exploitation, version 1. The field set follows the CyberTipline "
            "reporting API's; Haven renders the same report as CyberTipline XML."
        },
    )

    schema_version: Literal["1"] = Field(
        description='The version of this format; "1" for this schema.'
    )
    report_id: Identifier = Field(
        description="The sender's identifier of the report (1 to 100 characters of A-Z a-z 0-9 "
        ". _ : -); the intake is idempotent on it."
    )
    created_at: AwareDatetime = Field(
        description="When the sender created the report, ISO 8601 with a timezone."
    )
    synthetic: bool = Field(
        default=False,
        description="True for demonstration or test data, which an intake must never treat "
        "as a real report.",
    )
    incident: Incident = Field(description="The incident: its type, time, priority and tags.")
    locations: tuple[Location, ...] = Field(
        default=(), max_length=100, description="Where it happened."
    )
    reporter: Reporter = Field(description="Who sends the report, and whom to contact.")
    reported_accounts: tuple[ReportedAccount, ...] = Field(
        default=(), max_length=50, description="Accounts or persons reported."
    )
    victims: tuple[Victim, ...] = Field(
        default=(), max_length=50, description="Child victims, when known."
    )
    files: tuple[ReportFile, ...] = Field(
        default=(), max_length=1000, description="Files reported or supplementing the report."
    )
    ads: tuple[Ad, ...] = Field(
        default=(), max_length=1000, description="Advertisements tied to the incident."
    )
    additional_info: Text10000 | None = Field(
        default=None, description="Anything else the authority should know, as free text."
    )

    @field_validator("files")
    @classmethod
    def _unique_file_ids(cls, files: tuple[ReportFile, ...]) -> tuple[ReportFile, ...]:
        twice = _duplicates([file.file_id for file in files])
        if twice:
            raise ValueError(f"file_id listed more than once: {', '.join(twice[:5])}")
        return files

    @field_validator("ads")
    @classmethod
    def _unique_ad_ids(cls, ads: tuple[Ad, ...]) -> tuple[Ad, ...]:
        twice = _duplicates([ad.ad_id for ad in ads])
        if twice:
            raise ValueError(f"ad_id listed more than once: {', '.join(twice[:5])}")
        return ads

    @model_validator(mode="after")
    def _has_evidence(self) -> Self:
        if not (self.files or self.ads or self.locations):
            raise ValueError("a report needs at least one of files, ads or locations")
        return self


# --- errors ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormatProblem:
    """One thing wrong with a report: where (`files[2].md5`; empty for the whole) and what."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path or '(report)'}: {self.problem}"


class ReportFormatError(ValueError):
    """The input is not a valid Haven report; `problems` says what is wrong, and where."""

    def __init__(self, problems: Sequence[FormatProblem]) -> None:
        self.problems: list[FormatProblem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.problems)
        head = f"not a valid Haven report ({count} problem{'s' if count != 1 else ''})"
        lines = [head, *(f"  {problem}" for problem in self.problems[:20])]
        if count > 20:
            lines.append(f"  ... and {count - 20} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._summary()


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier() and part.isascii() and len(part) <= 64:
            path += f".{part}" if path else part
        else:
            path += f"[{part[:64]!a}]"
    return path


def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        return f"does not match the pattern {pattern!a}"
    if kind == "extra_forbidden":
        return "is not a field of this format"
    if kind == "missing":
        return "is required"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def _problems(exc: ValidationError) -> list[FormatProblem]:
    errors = exc.errors(include_url=False, include_input=False, include_context=True)
    problems = [FormatProblem(_path(tuple(e["loc"])), _message(e)) for e in errors]
    if len(problems) > MAX_LISTED_PROBLEMS:
        extra = len(problems) - MAX_LISTED_PROBLEMS + 1
        problems = problems[: MAX_LISTED_PROBLEMS - 1]
        problems.append(FormatProblem("", f"... and {extra} more problems not listed"))
    return problems


#: Deeper nesting than this is never a report (the format itself is 5 levels deep).
_MAX_DEPTH: Final = 64


def _not_json(data: object) -> FormatProblem:
    """Find the first value in `data` that JSON cannot carry, and say where it is."""
    stack: list[tuple[tuple[int | str, ...], object, frozenset[int]]] = [((), data, frozenset())]
    while stack:
        loc, value, ancestors = stack.pop()
        if len(loc) > _MAX_DEPTH:
            return FormatProblem(_path(loc), "is nested too deeply")
        if value is None or isinstance(value, bool | int):
            continue
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return FormatProblem(_path(loc), "is NaN or infinite, which JSON cannot carry")
            continue
        if isinstance(value, str):
            if any("\ud800" <= char <= "\udfff" for char in value):
                return FormatProblem(_path(loc), "holds a lone surrogate, which is not Unicode")
            continue
        if isinstance(value, dict | list | tuple):
            if id(value) in ancestors:
                return FormatProblem(_path(loc), "contains itself")
            inner = ancestors | {id(value)}
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, str | int | float | bool) and key is not None:
                        return FormatProblem(_path(loc), f"has a {type(key).__name__} key")
                    stack.append(((*loc, str(key)), item, inner))
            else:
                stack.extend(((*loc, i), item, inner) for i, item in enumerate(value))
            continue
        return FormatProblem(_path(loc), f"is a {type(value).__name__}, which JSON cannot carry")
    return FormatProblem("", "is not JSON data")


def _fail(problem: str) -> ReportFormatError:
    return ReportFormatError([FormatProblem("", problem)])


# --- public functions ------------------------------------------------------------------


def parse_report(data: object) -> Report:
    """Validate JSON-like data (as `json.loads` returns it) as a Haven report.

    Raises ReportFormatError, and nothing else, for any input that is not a valid report.
    """
    try:
        if not isinstance(data, dict):
            raise _fail(f"a report is a JSON object, not {type(data).__name__}")
        try:
            text = json.dumps(data, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
            text.encode("utf-8")
        except (ValueError, TypeError, RecursionError):
            # NaN, a lone surrogate, a value JSON has no form for, or a cycle: say where.
            raise ReportFormatError([_not_json(data)]) from None
        if len(text) > MAX_REPORT_JSON_CHARS:
            raise _fail(f"larger than {MAX_REPORT_JSON_CHARS:,} characters of JSON")
        try:
            return Report.model_validate_json(text, strict=True)
        except ValidationError as exc:
            raise ReportFormatError(_problems(exc)) from None
    except ReportFormatError:
        raise
    except Exception as exc:  # any surprise is still the input's fault, reported as such
        raise _fail(f"unreadable input ({type(exc).__name__})") from None


def report_json(report: Report) -> dict[str, Any]:
    """The canonical JSON-ready form of a report: ISO 8601 times with timezone, no nulls."""
    dumped: dict[str, Any] = report.model_dump(mode="json", exclude_none=True)
    return dumped


def report_schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of Haven reports, version 1."""
    generated = Report.model_json_schema(mode="validation")
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
    }
    schema.update(generated)
    return schema


def report_schema_text() -> str:
    """The schema as published in docs/schemas/haven-report-1.json: sorted, indented, ASCII."""
    return json.dumps(report_schema(), indent=2, sort_keys=True) + "\n"
