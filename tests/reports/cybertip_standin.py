"""A local stand-in for the NCMEC CyberTipline reporting API, for tests of the connector.

Why: the real API is reachable only with NCMEC credentials, and a test must be able to make
every step fail on purpose. The stand-in follows the published flow and codes (see
`haven.reports.cybertipline`): Basic auth (HTTP 401 with code 2000 when wrong), `GET
/status`, `POST /submit` (checks the report XML: well-formed, no DTD, root `<report>`,
`incidentSummary/incidentType` one of the API's labels, `incidentSummary/incidentDateTime`,
`reporter/reportingPerson`), `POST /upload`, `POST /fileinfo`, `POST /finish` and `POST
/retract`, with the state rules (only an open report takes files, details, finish or
retract; 5001 unknown report, 5002 unknown file, 5101 already retracted, 5102 already
finished). It records what it received for assertions, and can be told to fail the next
calls of a step (`fail_next`), to answer given bytes (`answer_next`), or to drop the
connection without an answer (`drop_next`), before or after carrying the step out.

Usage::

    with CyberTiplineStandIn() as ncmec:
        client = CyberTiplineClient(ncmec.url, ncmec.username, ncmec.password)
        ...
        assert ncmec.reports[1].state == "finished"
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import urllib.parse
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, Self

from haven.reports.cybertip_xml import INCIDENT_TYPE_LABELS

__all__ = ["CyberTiplineStandIn", "Fault", "StandInFile", "StandInReport"]

STEPS = ("status", "submit", "upload", "fileinfo", "finish", "retract")
BASE_PATH = "/ispws"
State = Literal["open", "finished", "retracted"]


@dataclass
class StandInFile:
    name: str
    content: bytes
    details: bytes | None = None


@dataclass
class StandInReport:
    report_id: int
    xml: bytes
    incident_type: str
    state: State = "open"
    files: dict[str, StandInFile] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """What to answer instead: a code, raw bytes, or nothing (`drop`); `after` = do it first."""

    code: int = 1000
    description: str = "Server error"
    http_status: int = 200
    body: bytes | None = None
    drop: bool = False
    after: bool = False


class _Refused(Exception):
    def __init__(self, code: int, description: str, http_status: int = 200) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.http_status = http_status


def _response(code: int, description: str, root: str = "reportResponse", **extra: str) -> bytes:
    element = ET.Element(root)
    ET.SubElement(element, "responseCode").text = str(code)
    if root == "reportResponse":
        ET.SubElement(element, "responseDescription").text = description
    for tag, value in extra.items():
        ET.SubElement(element, tag).text = value
    document: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return document


def _refuse_dtd(*_args: object) -> None:
    raise _Refused(4110, "Malformed XML submittal: DTDs and entities are not accepted")


def _xml(body: bytes) -> ET.Element:
    checker = xml.parsers.expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse_dtd
    checker.EntityDeclHandler = _refuse_dtd
    try:
        checker.Parse(body, True)
    except xml.parsers.expat.ExpatError as error:
        raise _Refused(4110, f"Malformed XML submittal: {error}") from None
    return ET.fromstring(body)


def _form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """name → (filename, bytes) of a multipart or urlencoded form, byte for byte."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"))
        return {name: (None, value.encode()) for name, value in pairs}
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or match is None:
        raise _Refused(4200, "Malformed file submittal: not a form")
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator or not content.endswith(b"\r\n"):
            raise _Refused(4200, "Malformed file submittal: a part without headers")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'name="([^"]*)"', headers)
        filename = re.search(r'filename="([^"]*)"', headers)
        if name is None:
            raise _Refused(4200, "Malformed file submittal: a part without a name")
        fields[name.group(1)] = (filename.group(1) if filename else None, content[:-2])
    return fields


class CyberTiplineStandIn:
    """The stand-in server on 127.0.0.1 (a free port), run in a thread while in `with`."""

    def __init__(self, username: str = "esp-synthetic", password: str = "synthetic-pw") -> None:
        self.username = username
        self.password = password
        self.reports: dict[int, StandInReport] = {}
        self.calls: list[str] = []  # every step called, authenticated or not, in order
        self.corrupt_hashes = False  # answer a wrong MD5 for uploads
        self._faults: dict[str, deque[Fault]] = {step: deque() for step in STEPS}
        self._next_id = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first (with ...)"
        return f"http://127.0.0.1:{self._server.server_address[1]}{BASE_PATH}"

    def fail_next(
        self,
        step: str,
        code: int,
        *,
        times: int = 1,
        description: str | None = None,
        http_status: int = 200,
        after: bool = False,
    ) -> None:
        """Answer `code` to the next `times` calls of `step` (after doing it, if `after`)."""
        text = description or f"Synthetic failure {code}"
        self._add(step, times, Fault(code, text, http_status, after=after))

    def answer_next(
        self, step: str, body: bytes, *, http_status: int = 200, after: bool = False
    ) -> None:
        """Answer exactly `body` to the next call of `step`."""
        self._add(step, 1, Fault(body=body, http_status=http_status, after=after))

    def drop_next(self, step: str, *, after: bool = False) -> None:
        """Close the connection without an answer at the next call of `step`."""
        self._add(step, 1, Fault(drop=True, after=after))

    def _add(self, step: str, times: int, fault: Fault) -> None:
        assert step in STEPS, step
        with self._lock:
            self._faults[step].extend([fault] * times)

    def _take_fault(self, step: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(step)
            return queue.popleft() if queue else None

    # --- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> Self:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- requests ---------------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return secrets.compare_digest(header or "", f"Basic {expected}")

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(request.path).path
        step = path.removeprefix(BASE_PATH + "/") if path.startswith(BASE_PATH + "/") else ""
        with self._lock:
            self.calls.append(step or path)
        if step not in STEPS or (method == "GET") != (step == "status"):
            self._send(request, 404, _response(4000, "Invalid request: no such endpoint"))
            return
        if not self._authorised(request.headers.get("Authorization")):
            self._send(request, 401, _response(2000, "Authentication required"), auth=True)
            return
        fault = self._take_fault(step)
        if fault is not None and not fault.after:
            self._send_fault(request, fault)
            return
        try:
            with self._lock:
                answer = self._step(step, request.headers.get("Content-Type") or "", body)
        except _Refused as refused:
            answer = _response(refused.code, refused.description)
        if fault is not None:
            self._send_fault(request, fault)
            return
        self._send(request, 200, answer)

    def _send_fault(self, request: BaseHTTPRequestHandler, fault: Fault) -> None:
        if fault.drop:
            request.close_connection = True
            return
        body = fault.body if fault.body is not None else _response(fault.code, fault.description)
        self._send(request, fault.http_status, body)

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, body: bytes, *, auth: bool = False
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", "application/xml; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        if auth:
            request.send_header("WWW-Authenticate", 'Basic realm="CyberTipline stand-in"')
        request.end_headers()
        request.wfile.write(body)

    # --- the steps (called with the lock held) ------------------------------------------

    def _step(self, step: str, content_type: str, body: bytes) -> bytes:
        if step == "status":
            return _response(0, f"Remote User : {self.username}, Remote Ip : 127.0.0.1")
        if step == "submit":
            return self._submit(body)
        if step == "fileinfo":
            return self._fileinfo(body)
        form = _form(content_type, body)
        report = self._open_report(form.get("id", (None, b""))[1].decode("utf-8", "replace"))
        if step == "upload":
            if "file" not in form:
                raise _Refused(4200, "Malformed file submittal: no file")
            filename, content = form["file"]
            file_id = secrets.token_hex(16)
            report.files[file_id] = StandInFile(filename or "", content)
            digest = hashlib.md5(content, usedforsecurity=False).hexdigest()
            if self.corrupt_hashes:
                digest = "0" * 32
            return _response(
                0, "Success", reportId=str(report.report_id), fileId=file_id, hash=digest
            )
        if step == "finish":
            report.state = "finished"
            done = ET.Element("reportDoneResponse")
            ET.SubElement(done, "responseCode").text = "0"
            ET.SubElement(done, "reportId").text = str(report.report_id)
            files = ET.SubElement(done, "files")
            for file_id in report.files:
                ET.SubElement(files, "fileId").text = file_id
            document: bytes = ET.tostring(done, encoding="utf-8", xml_declaration=True)
            return document
        report.state = "retracted"  # retract
        return _response(0, "Success", reportId=str(report.report_id))

    def _open_report(self, report_id: str) -> StandInReport:
        if not report_id.isdigit():
            raise _Refused(4000, "Invalid request: id is required")
        report = self.reports.get(int(report_id))
        if report is None:
            raise _Refused(5001, "Report does not exist")
        if report.state == "retracted":
            raise _Refused(5101, "Report already retracted")
        if report.state == "finished":
            raise _Refused(5102, "Report already finished")
        return report

    def _submit(self, body: bytes) -> bytes:
        root = _xml(body)
        if root.tag != "report":
            raise _Refused(4100, f"Validation failed: the root element is {root.tag}, not report")
        incident_type = root.findtext("incidentSummary/incidentType")
        if not incident_type:
            raise _Refused(4100, "Validation failed: incidentSummary/incidentType is required")
        if incident_type not in INCIDENT_TYPE_LABELS.values():
            raise _Refused(4100, f"Validation failed: unknown incidentType {incident_type!r}")
        if not root.findtext("incidentSummary/incidentDateTime"):
            raise _Refused(4100, "Validation failed: incidentSummary/incidentDateTime is required")
        if root.find("reporter/reportingPerson") is None:
            raise _Refused(4100, "Validation failed: reporter/reportingPerson is required")
        self._next_id += 1
        report_id = self._next_id
        self.reports[report_id] = StandInReport(report_id, body, incident_type)
        return _response(0, "Success", reportId=str(report_id))

    def _fileinfo(self, body: bytes) -> bytes:
        root = _xml(body)
        report_id = root.findtext("reportId") or ""
        file_id = root.findtext("fileId") or ""
        if root.tag != "fileDetails" or not report_id or not file_id:
            raise _Refused(4100, "Validation failed: fileDetails needs reportId and fileId")
        report = self._open_report(report_id)
        if file_id not in report.files:
            raise _Refused(5002, "File does not exist")
        report.files[file_id].details = body
        return _response(0, "Success", reportId=str(report.report_id))
