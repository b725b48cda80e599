"""A Haven report rendered as XML in the structure of the NCMEC CyberTipline reporting API.

Why: most providers already file CyberTipline reports, and a destination can be NCMEC, a
national authority, or both (issue 4). One `Report` (`haven.reports.format`) renders here
as the `<report>` document that the API's submit step takes, and each file as the
`<fileDetails>` document of its file-details step.

Element names and their order follow the published API documentation
(report.cybertip.org/ispws/documentation) as public client libraries mirror it:
`report/incidentSummary{incidentType, escalateToHighPriority, reportAnnotations,
incidentDateTime}`, `internetDetails/{webPageIncident, emailIncident, chatImIncident,
onlineGamingIncident, cellPhoneIncident, peer2peerIncident}`,
`reporter{reportingPerson, termsOfService, legalURL}`, `personOrUserReported{espIdentifier,
screenName, profileUrl, ipCaptureEvent, deviceId, estimatedLocation, associatedAccount,
additionalInfo}`, `victim{victimPerson/age, espIdentifier, schoolName, estimatedLocation}`,
`additionalInfo`; and `fileDetails{reportId, fileId, originalFileName, uploadedToEspTimestamp,
fileViewedByEsp, exifViewedByEsp, publiclyAvailable, fileRelevance, fileAnnotations,
industryClassification, originalFileHash@hashType, ipCaptureEvent, details/nameValuePair@type,
additionalInfo}`.
The labels (incident types, `Reported`/`Supplemental Reported`, event names) are the API's.

Not confirmed against NCMEC's XSD itself (only through those mirrors), and so kept out or
placed in free text rather than guessed: the report's creation time and Haven's report id
(the API stamps its own; there is no `reportedAt` element in the structure we could
confirm), the provider's name, the `synthetic` flag, further reported accounts beyond the
first (sent as `associatedAccount`, the closest confirmed element), ad details, and the
`other` file annotation, which has no CyberTipline flag. The encrypted file itself travels
through the API's upload step, not in this XML.

No Django import; standard library ElementTree only, which escapes all text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from haven.reports.format import (
    Ad,
    EstimatedLocation,
    FileAnnotation,
    FileRelevance,
    IncidentAnnotation,
    IncidentType,
    IpEvent,
    IpEventKind,
    Location,
    LocationKind,
    Report,
    ReportedAccount,
    ReportFile,
    Victim,
)

__all__ = [
    "EVENT_NAMES",
    "FILE_ANNOTATION_ELEMENTS",
    "FILE_RELEVANCE_LABELS",
    "INCIDENT_ANNOTATION_ELEMENTS",
    "INCIDENT_TYPE_LABELS",
    "file_details_xml",
    "readable_report_xml",
    "report_xml",
]

#: Haven's incident types → the CyberTipline's `incidentType` values.
INCIDENT_TYPE_LABELS: Final[dict[IncidentType, str]] = {
    IncidentType.CHILD_SEXUAL_ABUSE_MATERIAL: (
        "Child Pornography (possession, manufacture, and distribution)"
    ),
    IncidentType.CHILD_SEX_TRAFFICKING: "Child Sex Trafficking",
    IncidentType.CHILD_SEX_TOURISM: "Child Sex Tourism",
    IncidentType.CHILD_SEXUAL_MOLESTATION: "Child Sexual Molestation",
    IncidentType.MISLEADING_DOMAIN_NAME: "Misleading Domain Name",
    IncidentType.MISLEADING_WORDS_OR_IMAGES: "Misleading Words or Digital Images on the Internet",
    IncidentType.ONLINE_ENTICEMENT: "Online Enticement of Children for Sexual Acts",
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL_TO_CHILD: (
        "Unsolicited Obscene Material Sent to a Child"
    ),
}

#: Haven's incident annotations → the empty flag elements of `reportAnnotations`.
INCIDENT_ANNOTATION_ELEMENTS: Final[dict[IncidentAnnotation, str]] = {
    IncidentAnnotation.SEXTORTION: "sextortion",
    IncidentAnnotation.SOLICITATION: "csamSolicitation",
    IncidentAnnotation.MINOR_TO_MINOR: "minorToMinorInteraction",
    IncidentAnnotation.SPAM: "spam",
}

#: Haven's file annotations → the empty flag elements of `fileAnnotations` (`other` has none).
FILE_ANNOTATION_ELEMENTS: Final[dict[FileAnnotation, str]] = {
    FileAnnotation.GENERATIVE_AI: "generativeAi",
    FileAnnotation.LIVE_STREAMING: "liveStreaming",
    FileAnnotation.INFANT: "infant",
    FileAnnotation.SELF_PRODUCTION: "possibleSelfProduction",
    FileAnnotation.MEME: "potentialMeme",
    FileAnnotation.VIRAL: "viral",
    FileAnnotation.PHYSICAL_HARM: "physicalHarm",
}

FILE_RELEVANCE_LABELS: Final[dict[FileRelevance, str]] = {
    FileRelevance.REPORTED: "Reported",
    FileRelevance.SUPPLEMENTAL: "Supplemental Reported",
}

#: Haven's IP event kinds → the CyberTipline's `eventName` values.
EVENT_NAMES: Final[dict[IpEventKind, str]] = {
    IpEventKind.LOGIN: "Login",
    IpEventKind.REGISTRATION: "Registration",
    IpEventKind.UPLOAD: "Upload",
    IpEventKind.PURCHASE: "Purchase",
    IpEventKind.OTHER: "Other",
}

# Each location kind's incident element, the element that names the place in it, and the
# longest value that element takes (a longer identifier goes to additionalInfo, uncut).
_LOCATION_ELEMENTS: Final[dict[LocationKind, tuple[str, str | None, int]]] = {
    LocationKind.WEB_PAGE: ("webPageIncident", None, 0),
    LocationKind.AD: ("webPageIncident", None, 0),
    LocationKind.EMAIL: ("emailIncident", "emailAddress", 255),
    LocationKind.CHAT: ("chatImIncident", "chatRoomName", 255),
    LocationKind.GAMING: ("onlineGamingIncident", "gameName", 255),
    LocationKind.PHONE: ("cellPhoneIncident", "phoneNumber", 50),
    LocationKind.PEER_TO_PEER: ("peer2peerIncident", "client", 255),
}

# Characters XML 1.0 cannot carry; the format already refuses them, this is a last guard.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_REPORT_ID_AT_NCMEC: Final = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = _clean(text)
    return element


def _add_optional(parent: ET.Element, tag: str, text: str | None) -> None:
    if text is not None:
        _add(parent, tag, text)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _time(moment: datetime) -> str:
    return moment.isoformat()


def _to_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _ip_event(parent: ET.Element, event: IpEvent) -> None:
    element = _add(parent, "ipCaptureEvent")
    _add(element, "ipAddress", event.ip)
    _add(element, "eventName", EVENT_NAMES[event.kind])
    _add(element, "dateTime", _time(event.at))
    if event.port is not None:
        _add(element, "port", str(event.port))


def _estimated_location(parent: ET.Element, location: EstimatedLocation) -> None:
    element = _add(parent, "estimatedLocation")
    _add_optional(element, "city", location.city)
    _add_optional(element, "region", location.region)
    _add_optional(element, "countryCode", location.country_code)


def _joined(label: str, values: Iterable[str]) -> str | None:
    listed = list(values)
    return f"{label}: {', '.join(listed)}" if listed else None


def _lines(*lines: str | None) -> str | None:
    kept = [line for line in lines if line]
    return "\n".join(kept) if kept else None


def _incident_summary(root: ET.Element, report: Report) -> None:
    incident = report.incident
    summary = _add(root, "incidentSummary")
    _add(summary, "incidentType", INCIDENT_TYPE_LABELS[incident.type])
    if incident.escalation is not None:
        _add(summary, "escalateToHighPriority", incident.escalation.reason)
    if incident.annotations:
        annotations = _add(summary, "reportAnnotations")
        for annotation in incident.annotations:
            _add(annotations, INCIDENT_ANNOTATION_ELEMENTS[annotation])
    _add(summary, "incidentDateTime", _time(incident.occurred_at))


def _location(root: ET.Element, location: Location) -> None:
    incident_tag, identifier_tag, identifier_limit = _LOCATION_ELEMENTS[location.kind]
    details = _add(root, "internetDetails")
    incident = _add(details, incident_tag)
    identifier = location.identifier
    notes: list[str | None] = []
    if location.kind is LocationKind.AD:
        notes.append("Online advertisement")
    if incident_tag == "webPageIncident":
        _add_optional(incident, "url", location.url)
        notes.append(f"Identifier: {identifier}" if identifier else None)
    else:
        fits = identifier is not None and len(identifier) <= identifier_limit
        if location.kind is LocationKind.EMAIL:
            fits = fits and identifier is not None and "@" in identifier
        if identifier_tag is not None and fits:
            _add(incident, identifier_tag, identifier)
        elif identifier is not None:
            notes.append(f"Identifier: {identifier}")
        notes.append(f"URL: {location.url}" if location.url else None)
    _add_optional(incident, "additionalInfo", _lines(*notes))


def _ad(root: ET.Element, ad: Ad) -> None:
    details = _add(root, "internetDetails")
    incident = _add(details, "webPageIncident")
    _add_optional(incident, "url", ad.url)
    note = _lines(
        f"Online advertisement {ad.ad_id}",
        f"Cluster: {ad.cluster_id}" if ad.cluster_id else None,
        f"Posted: {_time(ad.posted_at)}" if ad.posted_at else None,
        _joined("Phones", ad.phones),
        f"Text: {ad.text}" if ad.text else None,
    )
    _add_optional(incident, "additionalInfo", note)


def _reporter(root: ET.Element, report: Report) -> None:
    reporter = report.reporter
    element = _add(root, "reporter")
    person = _add(element, "reportingPerson")
    words = reporter.contact.name.split()
    if len(words) > 1:  # the API wants first and last names; the last word is the last name
        _add(person, "firstName", " ".join(words[:-1]))
    _add(person, "lastName", words[-1] if words else reporter.contact.name)
    _add_optional(person, "phone", reporter.contact.phone)
    _add(person, "email", reporter.contact.email)
    _add_optional(element, "termsOfService", reporter.terms_of_service_url)
    _add_optional(element, "legalURL", reporter.legal_url)


def _account_body(element: ET.Element, account: ReportedAccount, *, associated: bool) -> None:
    """espIdentifier, screenName, profileUrl, ipCaptureEvent, deviceId: the shared middle.

    `associatedAccount` puts profileUrl before screenName; `personOrUserReported` after.
    """
    if account.platform_ids:
        _add(element, "espIdentifier", account.platform_ids[0])
    if associated:
        for url in account.profile_urls:
            _add(element, "profileUrl", url)
    if account.screen_names:
        _add(element, "screenName", account.screen_names[0])
    if not associated:
        for url in account.profile_urls:
            _add(element, "profileUrl", url)
    for event in account.ip_events:
        _ip_event(element, event)
    for device in account.device_ids:
        device_element = _add(element, "deviceId")
        _add(device_element, "idType", device.type)
        _add(device_element, "idValue", device.value)


def _account_notes(account: ReportedAccount) -> str | None:
    return _lines(
        _joined("Other platform ids", account.platform_ids[1:]),
        _joined("Other screen names", account.screen_names[1:]),
    )


def _reported(root: ET.Element, accounts: tuple[ReportedAccount, ...]) -> None:
    if not accounts:
        return
    first, *others = accounts
    element = _add(root, "personOrUserReported")
    _account_body(element, first, associated=False)
    if first.estimated_location is not None:
        _estimated_location(element, first.estimated_location)
    for other in others:
        associated = _add(element, "associatedAccount")
        _account_body(associated, other, associated=True)
        notes = _lines(
            _account_notes(other),
            _estimated_location_note(other.estimated_location),
        )
        _add_optional(associated, "additionalInfo", notes)
    _add_optional(element, "additionalInfo", _account_notes(first))


def _estimated_location_note(location: EstimatedLocation | None) -> str | None:
    if location is None:
        return None
    parts = [part for part in (location.city, location.region, location.country_code) if part]
    return f"Estimated location: {', '.join(parts)}"


def _victim(root: ET.Element, victim: Victim) -> None:
    element = _add(root, "victim")
    person = _add(element, "victimPerson")
    if victim.estimated_age is not None:
        _add(person, "age", str(victim.estimated_age))
    if victim.platform_ids:
        _add(element, "espIdentifier", victim.platform_ids[0])
    _add_optional(element, "schoolName", victim.school)
    if victim.location is not None:
        _estimated_location(element, victim.location)
    _add_optional(element, "additionalInfo", _joined("Other platform ids", victim.platform_ids[1:]))


def readable_report_xml(report: Report) -> str:
    """The report's CyberTipline document indented, for a person to read before sending."""
    root = ET.fromstring(report_xml(report))  # our own output, never outside input
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def report_xml(report: Report) -> bytes:
    """The report as a CyberTipline `<report>` document (UTF-8 XML, with declaration)."""
    root = ET.Element("report")
    _incident_summary(root, report)
    for location in report.locations:
        _location(root, location)
    for ad in report.ads:
        _ad(root, ad)
    _reporter(root, report)
    _reported(root, report.reported_accounts)
    for victim in report.victims:
        _victim(root, victim)
    info = _lines(
        "SYNTHETIC TEST DATA: not a real report." if report.synthetic else None,
        report.additional_info,
        f"Reporting provider: {report.reporter.provider}",
        f"Provider report id: {report.report_id}; created {_time(report.created_at)}; "
        f"Haven report format {report.schema_version}.",
    )
    _add_optional(root, "additionalInfo", info)
    return _to_bytes(root)


def _hashes(file: ReportFile) -> list[tuple[str, str]]:
    named = (("MD5", file.md5), ("SHA1", file.sha1), ("SHA256", file.sha256), ("PDQ", file.pdq))
    return [(name, value) for name, value in named if value is not None]


def file_details_xml(
    report_id_at_ncmec: str, file: ReportFile, *, file_id_at_ncmec: str | None = None
) -> bytes:
    """The `<fileDetails>` document for one file of a submitted report (UTF-8 XML).

    `report_id_at_ncmec` is the id the submit step answered; `file_id_at_ncmec` the id the
    upload step answered for this file (Haven's own `file.file_id` when not given).
    """
    if not _REPORT_ID_AT_NCMEC.fullmatch(report_id_at_ncmec):
        raise ValueError("report_id_at_ncmec must be 1–100 characters of A–Z a–z 0–9 . _ : -")
    file_id = file.file_id if file_id_at_ncmec is None else file_id_at_ncmec
    if not _REPORT_ID_AT_NCMEC.fullmatch(file_id):
        raise ValueError("file_id_at_ncmec must be 1–100 characters of A–Z a–z 0–9 . _ : -")
    root = ET.Element("fileDetails")
    _add(root, "reportId", report_id_at_ncmec)
    _add(root, "fileId", file_id)
    _add(root, "originalFileName", file.original_name or file.name)
    if file.uploaded_from is not None:
        _add(root, "uploadedToEspTimestamp", _time(file.uploaded_from.at))
    _add(root, "fileViewedByEsp", _bool(file.viewed_by_provider))
    _add(root, "exifViewedByEsp", _bool(file.exif_viewed_by_provider))
    if file.publicly_available is not None:
        _add(root, "publiclyAvailable", _bool(file.publicly_available))
    _add(root, "fileRelevance", FILE_RELEVANCE_LABELS[file.relevance])
    flags = [FILE_ANNOTATION_ELEMENTS[a] for a in file.annotations if a in FILE_ANNOTATION_ELEMENTS]
    if flags:
        annotations = _add(root, "fileAnnotations")
        for flag in flags:
            _add(annotations, flag)
    if file.classification is not None:
        _add(root, "industryClassification", file.classification.value)
    hashes = _hashes(file)
    for name, value in hashes:
        if name != "PDQ":
            _add(root, "originalFileHash", value).set("hashType", name)
    if file.uploaded_from is not None:
        _ip_event(root, file.uploaded_from)
    if file.pdq is not None:
        details = _add(root, "details")
        pair = _add(details, "nameValuePair")
        pair.set("type", "HASH")
        _add(pair, "name", "PDQ")
        _add(pair, "value", file.pdq)
    info = _lines(
        "Hashes: " + "; ".join(f"{name} {value}" for name, value in hashes),
        f"Stored name: {file.name}" if file.original_name else None,
        f"Size: {file.size} bytes" if file.size is not None else None,
        "Annotation: other" if FileAnnotation.OTHER in file.annotations else None,
        f"Haven file id: {file.file_id}" if file_id_at_ncmec is not None else None,
    )
    _add_optional(root, "additionalInfo", info)
    return _to_bytes(root)
