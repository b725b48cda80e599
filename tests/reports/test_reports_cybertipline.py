"""The CyberTipline connector against the local stand-in: the flow, the codes, the retract.

What matters: a report arrives whole (XML, every file byte for byte, every file's details,
finished) or is retracted; each refusal says what went wrong and whether another try can
help, since the outbox gives up on `retry=False`; hostile answers (DTDs, entities) are
refused. Synthetic values only; the file bytes are generated.
"""

from __future__ import annotations

import hashlib
import socket
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.reports.cybertip_standin import CyberTiplineStandIn
from tests.reports.reports_helpers import report_doc

from haven.reports.cybertip_xml import INCIDENT_TYPE_LABELS
from haven.reports.cybertipline import (
    CyberTiplineClient,
    CyberTiplineError,
    OutgoingFile,
    deliver,
    submit_report,
)
from haven.reports.format import IncidentType
from haven.reports.outbox import DeliveryError

# Every byte value, CRLFs and a line that looks like a multipart boundary: the upload must
# carry them unchanged. Synthetic bytes, not an image of anything.
CONTENT_A = bytes(range(256)) * 3 + b"\r\n--haven-boundary\r\n\r\n" + b"synthetic A"
CONTENT_B = b"\x89PNG\r\n\x1a\n synthetic test file B, not a real image \r\n"


def _file(file_id: str, content: bytes) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "name": f"{file_id}.bin",
        "original_name": f'upload "{file_id}".bin',
        "md5": hashlib.md5(content).hexdigest(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "viewed_by_provider": False,
        "exif_viewed_by_provider": False,
        "relevance": "reported",
    }


def payload() -> dict[str, Any]:
    return report_doc("rep-ct-1", files=[_file("f-a", CONTENT_A), _file("f-b", CONTENT_B)])


def outgoing() -> list[OutgoingFile]:
    return [
        OutgoingFile("f-a", "f-a.bin", CONTENT_A),
        OutgoingFile("f-b", 'f-"b"\r\n.bin', CONTENT_B),
    ]


@pytest.fixture
def ncmec() -> Any:
    with CyberTiplineStandIn() as standin:
        yield standin


def client_for(ncmec: CyberTiplineStandIn, password: str | None = None) -> CyberTiplineClient:
    return CyberTiplineClient(
        ncmec.url, ncmec.username, ncmec.password if password is None else password, timeout=5
    )


def only_report(ncmec: CyberTiplineStandIn) -> Any:
    assert len(ncmec.reports) == 1
    return next(iter(ncmec.reports.values()))


# --- the whole flow -------------------------------------------------------------------


def test_happy_path_files_byte_for_byte_details_and_receipt(
    ncmec: CyberTiplineStandIn,
) -> None:
    client = client_for(ncmec)
    assert ncmec.username in client.status()
    receipt = submit_report(client, payload(), outgoing())

    report = only_report(ncmec)
    assert report.state == "finished"
    assert report.incident_type == INCIDENT_TYPE_LABELS[IncidentType.CHILD_SEX_TRAFFICKING]
    assert ET.fromstring(report.xml).findtext("incidentSummary/incidentType") == (
        "Child Sex Trafficking"
    )
    assert receipt["destination"] == "cybertipline"
    assert receipt["report_id"] == receipt["receipt_id"] == str(report.report_id)
    assert set(receipt["files"]) == {"f-a", "f-b"}
    assert datetime.fromisoformat(receipt["finished_at"]).tzinfo is not None
    stored = report.files
    assert stored[receipt["files"]["f-a"]].content == CONTENT_A
    assert stored[receipt["files"]["f-b"]].content == CONTENT_B
    assert stored[receipt["files"]["f-b"]].name == "f-_b___.bin"  # no quote or CRLF
    for haven_id, ncmec_id in receipt["files"].items():
        details = stored[ncmec_id].details
        assert details is not None
        root = ET.fromstring(details)
        assert root.findtext("reportId") == str(report.report_id)
        assert root.findtext("fileId") == ncmec_id
        assert root.findtext("originalFileName") == f'upload "{haven_id}".bin'
    assert ncmec.calls == [
        "status",  # the test's own
        "status",  # submit_report checks the credentials before opening a report
        "submit",
        "upload",
        "fileinfo",
        "upload",
        "fileinfo",
        "finish",
    ]


def test_report_without_files_is_submitted_and_finished(ncmec: CyberTiplineStandIn) -> None:
    receipt = deliver(ncmec.url, ncmec.username, ncmec.password, report_doc("rep-ads"), [])
    assert receipt["files"] == {}
    assert only_report(ncmec).state == "finished"
    assert ncmec.calls == ["status", "submit", "finish"]


def test_a_retry_after_a_retracted_attempt_files_one_finished_report(
    ncmec: CyberTiplineStandIn,
) -> None:
    ncmec.fail_next("upload", 1111, description="File upload failed")
    with pytest.raises(DeliveryError) as caught:
        deliver(ncmec.url, ncmec.username, ncmec.password, payload(), outgoing())
    assert caught.value.retry is True
    deliver(ncmec.url, ncmec.username, ncmec.password, payload(), outgoing())
    states = sorted(report.state for report in ncmec.reports.values())
    assert states == ["finished", "retracted"]


# --- credentials --------------------------------------------------------------------


def test_wrong_password_is_code_2000_not_retried_and_opens_nothing(
    ncmec: CyberTiplineStandIn,
) -> None:
    client = client_for(ncmec, password="not-the-password")
    with pytest.raises(CyberTiplineError) as caught:
        client.status()
    assert caught.value.code == 2000
    assert caught.value.retry is False
    assert "refused the credentials" in str(caught.value)
    assert "not-the-password" not in str(caught.value)
    with pytest.raises(DeliveryError) as delivered:
        deliver(ncmec.url, ncmec.username, "not-the-password", payload(), outgoing())
    assert delivered.value.retry is False
    assert ncmec.reports == {}


def test_http_401_without_a_readable_body_is_still_the_credentials(
    ncmec: CyberTiplineStandIn,
) -> None:
    ncmec.answer_next("status", b"<html>Unauthorized</html>", http_status=401)
    with pytest.raises(CyberTiplineError) as caught:
        client_for(ncmec).status()
    assert caught.value.code == 2000 and caught.value.retry is False


def test_not_authorised_for_submissions_is_not_retried(ncmec: CyberTiplineStandIn) -> None:
    ncmec.fail_next("submit", 3100, description="User does not have authorization")
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    assert caught.value.code == 3100 and caught.value.retry is False
    assert "authorisation" in str(caught.value)


# --- validation and server errors -----------------------------------------------------


def test_validation_failure_names_the_problem_and_is_not_retried(
    ncmec: CyberTiplineStandIn,
) -> None:
    client = client_for(ncmec)
    with pytest.raises(CyberTiplineError) as caught:
        client.submit(b"<report><reporter><reportingPerson/></reporter></report>")
    assert caught.value.code == 4100
    assert caught.value.retry is False
    assert "incidentSummary/incidentType is required" in str(caught.value)
    with pytest.raises(CyberTiplineError) as malformed:
        client.submit(b"<report><incidentSummary>")
    assert malformed.value.code == 4110 and malformed.value.retry is False
    assert ncmec.reports == {}


def test_validation_failure_through_deliver_keeps_the_description(
    ncmec: CyberTiplineStandIn,
) -> None:
    ncmec.fail_next("submit", 4100, description="Validation failed: reporter/email is invalid")
    with pytest.raises(DeliveryError) as caught:
        deliver(ncmec.url, ncmec.username, ncmec.password, payload(), outgoing())
    assert caught.value.retry is False
    assert "reporter/email is invalid" in str(caught.value)
    assert "code 4100" in str(caught.value)


@pytest.mark.parametrize("code", [1000, 1100, 1300])
def test_server_error_is_retried_and_opens_nothing(ncmec: CyberTiplineStandIn, code: int) -> None:
    ncmec.fail_next("submit", code)
    with pytest.raises(DeliveryError) as caught:
        deliver(ncmec.url, ncmec.username, ncmec.password, payload(), outgoing())
    assert caught.value.retry is True
    assert f"code {code}" in str(caught.value)
    assert ncmec.reports == {}


def test_http_503_without_xml_is_retried_and_unknown_codes_too(
    ncmec: CyberTiplineStandIn,
) -> None:
    ncmec.answer_next("status", b"Service Unavailable", http_status=503)
    with pytest.raises(CyberTiplineError) as caught:
        client_for(ncmec).status()
    assert caught.value.retry is True and caught.value.code is None
    ncmec.fail_next("status", 7777)
    with pytest.raises(CyberTiplineError) as unknown:
        client_for(ncmec).status()
    assert unknown.value.code == 7777 and unknown.value.retry is True


def test_connection_refused_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CyberTiplineClient(f"http://127.0.0.1:{port}/ispws", "esp", "pw", timeout=5)
    with pytest.raises(CyberTiplineError) as caught:
        client.status()
    assert caught.value.retry is True and caught.value.code is None
    with pytest.raises(DeliveryError) as delivered:
        deliver(f"http://127.0.0.1:{port}/ispws", "esp", "pw", payload(), outgoing())
    assert delivered.value.retry is True


# --- retract on failure -------------------------------------------------------------


def test_failure_during_upload_retracts_the_report(ncmec: CyberTiplineStandIn) -> None:
    ncmec.fail_next("upload", 1111, description="File upload failed")
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    report = only_report(ncmec)
    assert report.state == "retracted"
    assert caught.value.code == 1111 and caught.value.retry is True
    assert f"Report {report.report_id} was retracted" in str(caught.value)
    assert ncmec.calls[-2:] == ["upload", "retract"]


def test_a_dropped_connection_mid_upload_retracts_the_report(
    ncmec: CyberTiplineStandIn,
) -> None:
    ncmec.drop_next("upload", after=True)  # the file arrived, its answer did not
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    assert caught.value.retry is True
    assert only_report(ncmec).state == "retracted"


def test_invalid_file_details_retract_and_are_not_retried(ncmec: CyberTiplineStandIn) -> None:
    ncmec.fail_next("fileinfo", 4100, description="Validation failed: fileRelevance")
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    assert caught.value.retry is False
    assert "fileRelevance" in str(caught.value)
    assert only_report(ncmec).state == "retracted"


def test_an_upload_whose_md5_differs_is_retracted(ncmec: CyberTiplineStandIn) -> None:
    ncmec.corrupt_hashes = True
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    assert "MD5" in str(caught.value) and caught.value.retry is True
    assert only_report(ncmec).state == "retracted"


def test_a_failed_retract_is_said_and_the_first_error_kept(ncmec: CyberTiplineStandIn) -> None:
    ncmec.fail_next("upload", 1000)
    ncmec.fail_next("retract", 1000)
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    assert caught.value.step == "upload" and caught.value.code == 1000
    assert "could not be retracted" in str(caught.value)
    assert only_report(ncmec).state == "open"


def test_a_lost_finish_answer_is_recognised_as_finished(ncmec: CyberTiplineStandIn) -> None:
    ncmec.drop_next("finish", after=True)  # finished at NCMEC, the answer lost
    receipt = submit_report(client_for(ncmec), payload(), outgoing())
    report = only_report(ncmec)
    assert report.state == "finished"
    assert receipt["report_id"] == str(report.report_id)
    assert ncmec.calls[-2:] == ["finish", "retract"]


def test_a_finish_that_never_arrived_is_retracted(ncmec: CyberTiplineStandIn) -> None:
    ncmec.drop_next("finish")
    with pytest.raises(CyberTiplineError) as caught:
        submit_report(client_for(ncmec), payload(), outgoing())
    assert caught.value.retry is True
    assert only_report(ncmec).state == "retracted"


# --- state errors -------------------------------------------------------------------


def test_state_errors_are_mapped(ncmec: CyberTiplineStandIn) -> None:
    client = client_for(ncmec)
    receipt = submit_report(client, payload(), outgoing())
    finished = int(receipt["report_id"])

    with pytest.raises(CyberTiplineError) as twice:
        client.finish(finished)
    assert twice.value.code == 5102 and twice.value.retry is False
    assert "report's state" in str(twice.value) and "already finished" in str(twice.value)
    with pytest.raises(CyberTiplineError) as retract_finished:
        client.retract(finished)
    assert retract_finished.value.code == 5102
    with pytest.raises(CyberTiplineError) as unknown:
        client.upload(999_999, "x.bin", b"synthetic")
    assert unknown.value.code == 5001 and unknown.value.retry is False

    opened = client.submit(ncmec.reports[finished].xml)
    details = f"<fileDetails><reportId>{opened}</reportId><fileId>nope</fileId></fileDetails>"
    with pytest.raises(CyberTiplineError) as no_file:
        client.file_details(details.encode())
    assert no_file.value.code == 5002
    client.retract(opened)
    with pytest.raises(CyberTiplineError) as again:
        client.retract(opened)
    assert again.value.code == 5101


# --- hostile answers ------------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE reportResponse [
  <!ENTITY a "ha">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<reportResponse><responseCode>0</responseCode><responseDescription>&c;</responseDescription>
</reportResponse>"""


def test_an_answer_with_entities_is_refused(ncmec: CyberTiplineStandIn) -> None:
    ncmec.answer_next("status", LAUGHS)
    with pytest.raises(CyberTiplineError) as caught:
        client_for(ncmec).status()
    assert "DTD" in str(caught.value) and "haha" not in str(caught.value)


def test_an_answer_with_an_external_entity_is_refused(
    ncmec: CyberTiplineStandIn, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("synthetic-secret-value")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        "<reportResponse><responseCode>4100</responseCode>"
        "<responseDescription>&x;</responseDescription></reportResponse>"
    ).encode()
    ncmec.answer_next("submit", body)
    with pytest.raises(CyberTiplineError) as caught:
        client_for(ncmec).submit(b"<report/>")
    assert "DTD" in str(caught.value)
    assert "synthetic-secret-value" not in str(caught.value)


def test_a_bare_doctype_and_a_wrong_root_are_refused(ncmec: CyberTiplineStandIn) -> None:
    ncmec.answer_next(
        "status", b"<!DOCTYPE html><reportResponse><responseCode>0</responseCode></reportResponse>"
    )
    with pytest.raises(CyberTiplineError, match="DTD"):
        client_for(ncmec).status()
    ncmec.answer_next("status", b"<html><responseCode>0</responseCode></html>")
    with pytest.raises(CyberTiplineError, match="not a report response"):
        client_for(ncmec).status()


# --- inputs refused before anything is sent ---------------------------------------------


def test_files_must_match_the_report_and_nothing_is_sent(ncmec: CyberTiplineStandIn) -> None:
    client = client_for(ncmec)
    with pytest.raises(ValueError, match="without bytes"):
        submit_report(client, payload(), outgoing()[:1])
    with pytest.raises(ValueError, match="not in the report"):
        submit_report(client, payload(), [*outgoing(), OutgoingFile("f-x", "x", b"x")])
    with pytest.raises(DeliveryError) as caught:
        deliver(ncmec.url, ncmec.username, ncmec.password, {"schema_version": "1"}, [])
    assert caught.value.retry is False
    assert ncmec.calls == []


def test_a_synthetic_report_is_never_sent_to_production() -> None:
    client = CyberTiplineClient("https://report.cybertip.org/ispws", "esp", "pw", timeout=1)
    with pytest.raises(ValueError, match="synthetic"):
        submit_report(client, payload(), outgoing())


def test_credentials_go_only_over_https_or_to_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        CyberTiplineClient("http://report.cybertip.org/ispws", "esp", "pw")
    with pytest.raises(ValueError, match="username"):
        CyberTiplineClient("https://report.cybertip.org/ispws", "esp:x", "pw")
    client = CyberTiplineClient("https://exttest.cybertip.org/ispws", "e", "sekrit-synthetic")
    assert "sekrit" not in repr(client)
