"""The CyberTipline rendering: well-formed XML, the API's element names, order and labels.

A connector sends these documents as they are, so they must parse, carry every hash of every
file, map Haven's enums to the API's labels, and never say "None". Synthetic values only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from tests.reports.test_reports_format import (
    MD5,
    PDQ,
    SHA1,
    SHA256,
    minimal_report_dict,
    report_dicts,
    valid_report_dict,
)

from haven.reports.cybertip_xml import (
    EVENT_NAMES,
    FILE_ANNOTATION_ELEMENTS,
    FILE_RELEVANCE_LABELS,
    INCIDENT_ANNOTATION_ELEMENTS,
    INCIDENT_TYPE_LABELS,
    file_details_xml,
    report_xml,
)
from haven.reports.format import (
    FileAnnotation,
    FileRelevance,
    IncidentAnnotation,
    IncidentType,
    IpEventKind,
    Report,
    ReportFile,
    parse_report,
)

# Elements that carry meaning by being present, with no text.
FLAG_ELEMENTS = (
    set(INCIDENT_ANNOTATION_ELEMENTS.values())
    | set(FILE_ANNOTATION_ELEMENTS.values())
    | {"victimPerson", "reportAnnotations", "fileAnnotations"}
)
REPORT_ORDER = [
    "incidentSummary",
    "internetDetails",
    "reporter",
    "personOrUserReported",
    "victim",
    "additionalInfo",
]


def _report(data: dict[str, Any] | None = None) -> Report:
    return parse_report(data if data is not None else valid_report_dict())


def _parse(document: bytes) -> ET.Element:
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    document.decode("utf-8")
    return ET.fromstring(document)


def _texts(root: ET.Element) -> list[str]:
    texts: list[str] = []
    for element in root.iter():
        texts.extend(value for value in element.attrib.values())
        if element.text:
            texts.append(element.text)
    return texts


def _assert_clean(root: ET.Element) -> None:
    """No "None" anywhere, and no empty element except presence flags and parents."""
    assert not any("None" in text for text in _texts(root))
    for element in root.iter():
        if len(element) == 0 and not element.text:
            assert element.tag in FLAG_ELEMENTS, f"empty <{element.tag}>"


def _children(element: ET.Element | None) -> list[str]:
    assert element is not None
    return [child.tag for child in element]


# --- the report document ------------------------------------------------------------------


def test_the_report_is_well_formed_and_in_the_apis_order() -> None:
    root = _parse(report_xml(_report()))
    assert root.tag == "report"
    tags = _children(root)
    assert sorted(set(tags), key=REPORT_ORDER.index) == REPORT_ORDER
    assert [REPORT_ORDER.index(tag) for tag in tags] == sorted(REPORT_ORDER.index(t) for t in tags)
    _assert_clean(root)


def test_the_incident_summary_maps_type_escalation_annotations_and_time() -> None:
    root = _parse(report_xml(_report()))
    summary = root.find("incidentSummary")
    assert _children(summary) == [
        "incidentType",
        "escalateToHighPriority",
        "reportAnnotations",
        "incidentDateTime",
    ]
    assert root.findtext("incidentSummary/incidentType") == (
        "Child Pornography (possession, manufacture, and distribution)"
    )
    assert root.findtext("incidentSummary/escalateToHighPriority", "").startswith("Synthetic test")
    assert _children(root.find("incidentSummary/reportAnnotations")) == [
        "spam",
        "minorToMinorInteraction",
    ]
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-02-28T21:15:00+01:00"


def test_without_escalation_there_is_no_high_priority_element() -> None:
    data = minimal_report_dict()
    root = _parse(report_xml(_report(data)))
    assert root.find("incidentSummary/escalateToHighPriority") is None
    assert root.find("incidentSummary/reportAnnotations") is None
    _assert_clean(root)


@pytest.mark.parametrize("incident_type", list(IncidentType))
def test_every_incident_type_has_its_cybertipline_label(incident_type: IncidentType) -> None:
    data = minimal_report_dict()
    data["incident"]["type"] = incident_type.value
    root = _parse(report_xml(_report(data)))
    assert root.findtext("incidentSummary/incidentType") == INCIDENT_TYPE_LABELS[incident_type]


def test_the_mappings_cover_every_enum_value() -> None:
    assert set(INCIDENT_TYPE_LABELS) == set(IncidentType)
    assert len(set(INCIDENT_TYPE_LABELS.values())) == len(IncidentType)
    assert "Child Sex Trafficking" in INCIDENT_TYPE_LABELS.values()
    assert set(INCIDENT_ANNOTATION_ELEMENTS) == set(IncidentAnnotation)
    assert set(FILE_ANNOTATION_ELEMENTS) == set(FileAnnotation) - {FileAnnotation.OTHER}
    assert FILE_RELEVANCE_LABELS[FileRelevance.SUPPLEMENTAL] == "Supplemental Reported"
    assert set(EVENT_NAMES) == set(IpEventKind)


def test_locations_and_ads_become_internet_details() -> None:
    root = _parse(report_xml(_report()))
    details = root.findall("internetDetails")
    assert [_children(d) for d in details] == [
        ["webPageIncident"],
        ["chatImIncident"],
        ["webPageIncident"],
    ]
    assert details[0].findtext("webPageIncident/url") == "https://photos.example.org/p/123"
    assert details[1].findtext("chatImIncident/chatRoomName") == "room-demo-7"
    ad_info = details[2].findtext("webPageIncident/additionalInfo", "")
    assert details[2].findtext("webPageIncident/url") == "https://ads.example.org/77"
    assert "ad-77" in ad_info and "+12025550199" in ad_info and "cluster-3" in ad_info


def test_an_identifier_too_long_for_its_element_goes_whole_into_additional_info() -> None:
    data = minimal_report_dict()
    number = "+1202555" + "0" * 60
    data["locations"] = [{"kind": "phone", "identifier": number}]
    root = _parse(report_xml(_report(data)))
    incident = root.find("internetDetails/cellPhoneIncident")
    assert _children(incident) == ["additionalInfo"]
    assert number in root.findtext("internetDetails/cellPhoneIncident/additionalInfo", "")


def test_the_reporter_and_the_reported_account() -> None:
    root = _parse(report_xml(_report()))
    assert _children(root.find("reporter")) == ["reportingPerson", "termsOfService", "legalURL"]
    assert _children(root.find("reporter/reportingPerson")) == [
        "firstName",
        "lastName",
        "phone",
        "email",
    ]
    assert root.findtext("reporter/reportingPerson/firstName") == "Alex"
    assert root.findtext("reporter/reportingPerson/lastName") == "Example"
    person = root.find("personOrUserReported")
    assert _children(person) == [
        "espIdentifier",
        "screenName",
        "profileUrl",
        "ipCaptureEvent",
        "ipCaptureEvent",
        "deviceId",
        "estimatedLocation",
        "additionalInfo",
    ]
    events = root.findall("personOrUserReported/ipCaptureEvent")
    assert _children(events[0]) == ["ipAddress", "eventName", "dateTime", "port"]
    assert [e.findtext("eventName") for e in events] == ["Login", "Upload"]
    assert events[0].findtext("port") == "51514"
    assert "user-1001-old" in root.findtext("personOrUserReported/additionalInfo", "")


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [(" Alex  Q.  Example ", "Alex Q.", "Example"), ("Sam", None, "Sam"), ("  ", None, "  ")],
)
def test_the_contact_name_is_split_into_first_and_last(
    name: str, first: str | None, last: str
) -> None:
    data = valid_report_dict()
    data["reporter"]["contact"]["name"] = name
    root = _parse(report_xml(_report(data)))
    assert root.findtext("reporter/reportingPerson/firstName") == first
    assert root.findtext("reporter/reportingPerson/lastName") == last


def test_further_accounts_are_associated_accounts() -> None:
    data = valid_report_dict()
    data["reported_accounts"].append(
        {
            "platform_ids": ["user-3003"],
            "screen_names": ["second"],
            "profile_urls": ["https://example.org/u/2"],
        }
    )
    root = _parse(report_xml(_report(data)))
    associated = root.findall("personOrUserReported/associatedAccount")
    assert len(associated) == 1
    assert _children(associated[0]) == ["espIdentifier", "profileUrl", "screenName"]
    assert _children(root.find("personOrUserReported"))[-2:] == [
        "associatedAccount",
        "additionalInfo",
    ]


def test_victims() -> None:
    root = _parse(report_xml(_report()))
    victim = root.find("victim")
    assert _children(victim) == ["victimPerson", "espIdentifier", "schoolName"]
    assert root.findtext("victim/victimPerson/age") == "14"


def test_synthetic_reports_say_so_and_carry_the_senders_id() -> None:
    info = _parse(report_xml(_report())).findtext("additionalInfo", "")
    assert info.startswith("SYNTHETIC TEST DATA")
    assert "demo-report:0001" in info and "Example Photos (synthetic)" in info
    data = valid_report_dict()
    data["synthetic"] = False
    assert "SYNTHETIC" not in _parse(report_xml(_report(data))).findtext("additionalInfo", "")


def test_markup_in_values_is_escaped() -> None:
    data = valid_report_dict()
    tricky = "<b>bold</b> & \"quotes\" 'too' ]]> </report>"
    data["additional_info"] = tricky
    data["locations"][1]["identifier"] = "<room & co>"
    root = _parse(report_xml(_report(data)))
    assert root.findtext("additionalInfo", "").startswith(
        "SYNTHETIC TEST DATA: not a real report.\n" + tricky
    )
    assert root.findtext("internetDetails/chatImIncident/chatRoomName") == "<room & co>"


# --- file details -------------------------------------------------------------------------


def _file(index: int = 0) -> ReportFile:
    return _report().files[index]


def test_file_details_carry_the_flags_labels_and_every_hash() -> None:
    root = _parse(file_details_xml("12345", _file(0)))
    assert root.tag == "fileDetails"
    assert _children(root) == [
        "reportId",
        "fileId",
        "originalFileName",
        "uploadedToEspTimestamp",
        "fileViewedByEsp",
        "exifViewedByEsp",
        "publiclyAvailable",
        "fileRelevance",
        "fileAnnotations",
        "industryClassification",
        "originalFileHash",
        "originalFileHash",
        "originalFileHash",
        "ipCaptureEvent",
        "details",
        "additionalInfo",
    ]
    assert root.findtext("reportId") == "12345"
    assert root.findtext("fileId") == "file-1"
    assert root.findtext("originalFileName") == "holiday.jpg"
    assert root.findtext("fileViewedByEsp") == "true"
    assert root.findtext("exifViewedByEsp") == "false"
    assert root.findtext("publiclyAvailable") == "false"
    assert root.findtext("fileRelevance") == "Reported"
    assert _children(root.find("fileAnnotations")) == ["viral"]
    assert root.findtext("industryClassification") == "B2"
    hashes = {h.get("hashType"): h.text for h in root.findall("originalFileHash")}
    assert hashes == {"MD5": MD5, "SHA1": SHA1, "SHA256": SHA256}
    pair = root.find("details/nameValuePair")
    assert pair is not None and pair.get("type") == "HASH"
    assert pair.findtext("name") == "PDQ" and pair.findtext("value") == PDQ
    info = root.findtext("additionalInfo", "")
    assert all(value in info for value in (MD5, SHA1, SHA256, PDQ))
    _assert_clean(root)


def test_a_supplemental_file_without_optional_parts() -> None:
    root = _parse(file_details_xml("12345", _file(1)))
    assert root.findtext("fileRelevance") == "Supplemental Reported"
    assert root.findtext("fileViewedByEsp") == "false"
    for absent in ("publiclyAvailable", "industryClassification", "fileAnnotations", "details"):
        assert root.find(absent) is None
    assert root.findtext("originalFileName") == "stored-2.png"
    _assert_clean(root)


@pytest.mark.parametrize("annotation", list(FileAnnotation))
def test_every_file_annotation_is_carried(annotation: FileAnnotation) -> None:
    data = valid_report_dict()
    data["files"][0]["annotations"] = [annotation.value]
    root = _parse(file_details_xml("1", _report(data).files[0]))
    if annotation is FileAnnotation.OTHER:
        assert root.find("fileAnnotations") is None
        assert "Annotation: other" in root.findtext("additionalInfo", "")
    else:
        assert _children(root.find("fileAnnotations")) == [FILE_ANNOTATION_ELEMENTS[annotation]]


def test_the_authoritys_file_id_can_replace_havens() -> None:
    root = _parse(file_details_xml("99", _file(0), file_id_at_ncmec="abc123"))
    assert root.findtext("fileId") == "abc123"
    assert "Haven file id: file-1" in root.findtext("additionalInfo", "")


@pytest.mark.parametrize("bad", ["", "12 34", "1<2", "x" * 101])
def test_a_bad_report_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="report_id_at_ncmec"):
        file_details_xml(bad, _file(0))


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_dicts())
def test_any_valid_report_renders_well_formed_xml(data: dict[str, Any]) -> None:
    report = parse_report(data)
    root = _parse(report_xml(report))
    _assert_clean(root)
    assert (
        root.findtext("incidentSummary/incidentType") == INCIDENT_TYPE_LABELS[report.incident.type]
    )
    assert len(root.findall("internetDetails")) == len(report.locations) + len(report.ads)
    assert len(root.findall("victim")) == len(report.victims)
    for file in report.files:
        details = _parse(file_details_xml("7", file))
        _assert_clean(details)
        carried = " ".join(_texts(details))
        for value in (file.md5, file.sha1, file.sha256, file.pdq):
            if value is not None:
                assert value in carried
