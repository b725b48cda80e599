"""Filing a Haven report with the NCMEC CyberTipline through its reporting API.

Why: most providers must report to NCMEC, and issue 4 lets a destination be the
CyberTipline itself. This module is the connector: a small client for each step of the
published flow, the whole flow as one function, and a thin `deliver` the outbox calls.

The flow (report.cybertip.org/ispws/documentation, checked against public client libraries
that mirror it): `GET /status` checks the credentials (HTTP Basic); `POST /submit` takes the
`<report>` XML and opens a report, answering its numeric `reportId`; `POST /upload`
(multipart form: `id`, `file`) attaches one file, answering a `fileId` and the MD5 `hash`
of what arrived; `POST /fileinfo` takes one `<fileDetails>` XML; `POST /finish` (form `id`)
completes the report, answering `<reportDoneResponse>` with the report's file ids; and
`POST /retract` (form `id`) cancels a report that is open (not yet finished). Every answer
carries a `responseCode`: 0 is success; 1xxx are server errors (worth another try); 2000
(authentication required) and 3xxx (not authorised) mean the credentials or the account are
wrong; 4xxx mean the request is invalid (the description names the problem); 5xxx mean the
report's state forbids the step (5001 no such report, 5002 no such file, 5101 already
retracted, 5102 already finished). The form steps are sent as multipart forms, as the
public clients do; the XML steps as `text/xml; charset=utf-8`.

Assumptions, where the documentation was not at hand: an error may come as an HTTP error
status with or without an XML body (the body's code wins when it can be read; otherwise
401/403 are the credentials, 408/429/5xx are worth another try, other statuses are not);
an unknown non-zero code is treated as retryable, because the outbox's attempt limit bounds
the cost of a retry and giving up early would lose a report.

Delivery is all or nothing: a failure after the report was opened and before it was finished
retracts it (best effort), so that a retry of the whole delivery opens a fresh report rather
than leaving half of one at NCMEC. If the finish step's answer is lost, the retract tells
which way it went: NCMEC refusing to retract with 5102 (already finished) means the report
was filed, and that is a success. A submit whose answer is lost leaves an unfinished report
we cannot name; NCMEC does not act on unfinished reports.

Answers are parsed only after a check, with expat itself, that they hold no DTD, entity
declaration or external entity (no `defusedxml` in the project), and are read at most
1 MiB. Credentials travel only over https (plain http is allowed to a loopback address, for
the test stand-in); redirects are refused rather than followed, so that the Authorization
header never goes to another host. A synthetic report is never sent to the production host.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from haven.reports.cybertip_xml import file_details_xml, report_xml
from haven.reports.format import Report, ReportFile, parse_report

__all__ = [
    "PRODUCTION_HOST",
    "RESPONSE_CODES",
    "CyberTiplineClient",
    "CyberTiplineError",
    "OutgoingFile",
    "deliver",
    "submit_report",
]

#: The production API's host; synthetic reports are refused there (NCMEC's test host is
#: exttest.cybertip.org).
PRODUCTION_HOST: Final = "report.cybertip.org"

#: The response codes the documentation lists (non-exhaustive there too).
RESPONSE_CODES: Final[dict[int, str]] = {
    0: "Success",
    1000: "Server error",
    1100: "Save failed",
    1110: "Upload failed",
    1111: "File upload failed",
    1210: "Resource not found",
    1300: "Update failed",
    2000: "Authentication required",
    3000: "User is not authorized to perform this action",
    3100: "User does not have authorization to make submissions",
    3300: "User does not have authorization to make updates",
    4000: "Invalid request",
    4100: "Validation failed",
    4110: "Malformed XML submittal",
    4200: "Malformed file submittal",
    5001: "Report does not exist",
    5002: "File does not exist",
    5101: "Report already retracted",
    5102: "Report already finished",
}
REPORT_ALREADY_FINISHED: Final = 5102

_MAX_ANSWER_BYTES: Final = 1 << 20
_FILE_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_MD5: Final = re.compile(r"[0-9a-fA-F]{32}")
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._ -]")
_ANSWER_ROOTS: Final = ("reportResponse", "reportDoneResponse")


class CyberTiplineError(Exception):
    """A step NCMEC refused, or could not be asked; `retry` is False when again cannot help.

    `code` is NCMEC's response code, or None when there was none (network, HTTP, unreadable
    answer); `step` names the endpoint; `context` adds what the flow did about it.
    """

    def __init__(
        self,
        code: int | None,
        description: str,
        retry: bool,
        *,
        step: str = "",
        context: str = "",
    ) -> None:
        self.code = code
        self.description = description
        self.retry = retry
        self.step = step
        self.context = context
        super().__init__(self._message())

    def _message(self) -> str:
        code, text = self.code, self.description
        where = f" at the {self.step} step" if self.step else ""
        if code is None:
            head = f"CyberTipline{where}: {text}"
        elif code == 2000:
            head = (
                f"NCMEC refused the credentials (code 2000: {text}){where}; check the "
                "destination's username and password"
            )
        elif 3000 <= code < 4000:
            head = (
                f"NCMEC refused this account the action (code {code}: {text}){where}; the "
                "account lacks the authorisation, which only NCMEC can grant"
            )
        elif 1000 <= code < 2000:
            head = f"NCMEC had a server error (code {code}: {text}){where}; worth another try"
        elif 4000 <= code < 5000:
            head = (
                f"NCMEC refused the request as invalid (code {code}: {text}){where}; sending "
                "it again as it is cannot help"
            )
        elif 5000 <= code < 6000:
            head = f"NCMEC refused the step for the report's state (code {code}: {text}){where}"
        else:
            head = f"NCMEC answered an unknown response code {code} ({text}){where}"
        return f"{head}. {self.context}" if self.context else head

    def with_context(self, context: str) -> CyberTiplineError:
        """The same error, with `context` added to what its message says."""
        joined = f"{self.context} {context}".strip()
        return CyberTiplineError(
            self.code, self.description, self.retry, step=self.step, context=joined
        )


def _retry_for(code: int) -> bool:
    """1xxx and unknown codes are worth another try (see the module docstring); 2xxx-5xxx not."""
    return not 2000 <= code < 6000


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """One file's bytes to upload; `file_id` is the Haven report's `files[].file_id`."""

    file_id: str
    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class _Answer:
    root: str
    code: int
    description: str
    report_id: int | None
    file_id: str | None
    hash: str | None
    file_ids: tuple[str, ...]


class _RefuseDtd(Exception):
    pass


def _refuse(*_args: object) -> NoReturn:
    raise _RefuseDtd


def _safe_xml(body: bytes) -> ET.Element:
    """Parse an answer, refusing any DTD or entity (checked by expat before ElementTree)."""
    checker = xml.parsers.expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse
    checker.EntityDeclHandler = _refuse
    checker.UnparsedEntityDeclHandler = _refuse
    checker.ExternalEntityRefHandler = _refuse
    try:
        checker.Parse(body, True)
    except _RefuseDtd:
        raise ValueError("the answer carries a DTD or an entity declaration, refused") from None
    except xml.parsers.expat.ExpatError as error:
        raise ValueError(f"the answer is not well-formed XML ({error})") from None
    return ET.fromstring(body)


def _text(root: ET.Element, tag: str) -> str | None:
    element = root.find(tag)
    if element is None or element.text is None:
        return None
    return element.text.strip()


def _parse_answer(body: bytes) -> _Answer:
    """A reportResponse / reportDoneResponse, or ValueError saying why it is unreadable."""
    root = _safe_xml(body)
    if root.tag not in _ANSWER_ROOTS:
        raise ValueError(f"the answer's root is <{root.tag[:40]}>, not a report response")
    code_text = _text(root, "responseCode")
    if code_text is None or not re.fullmatch(r"-?[0-9]{1,9}", code_text):
        raise ValueError("the answer has no numeric responseCode")
    report_text = _text(root, "reportId")
    report_id = None
    if report_text is not None:
        if not re.fullmatch(r"[0-9]{1,18}", report_text):
            raise ValueError("the answer's reportId is not a number")
        report_id = int(report_text)
    code = int(code_text)
    description = _text(root, "responseDescription") or RESPONSE_CODES.get(code, "")
    files = root.find("files")
    file_ids: tuple[str, ...] = ()
    if files is not None:
        file_ids = tuple(e.text.strip() for e in files.iter("fileId") if e.text)
    return _Answer(
        root=root.tag,
        code=code,
        description=description[:500],
        report_id=report_id,
        file_id=_text(root, "fileId"),
        hash=_text(root, "hash"),
        file_ids=file_ids,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: following one would send the Basic credentials elsewhere."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def _multipart(fields: Mapping[str, str], file: tuple[str, bytes] | None) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    content = file[1] if file is not None else b""
    boundary = "haven-" + secrets.token_hex(16)
    while boundary.encode() in content:  # vanishingly unlikely; cheap to rule out
        boundary = "haven-" + secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if file is not None:
        filename = _UNSAFE_NAME.sub("_", file[0])[:255] or "file"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CyberTiplineClient:
    """One call per step of the reporting API; each answers its result or raises
    CyberTiplineError. No retries here: the outbox retries whole deliveries."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        host = parsed.hostname or ""
        if not host or not (
            parsed.scheme == "https" or (parsed.scheme == "http" and _loopback(host))
        ):
            raise ValueError(
                "the CyberTipline URL must be https:// (plain http only to a loopback address)"
            )
        if ":" in username or not username:
            raise ValueError("the CyberTipline username must be non-empty and hold no ':'")
        self.base_url = base_url.rstrip("/")
        self.host = host
        self.timeout = timeout
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:  # never the credentials
        return f"CyberTiplineClient({self.base_url!r})"

    # --- transport ------------------------------------------------------------------

    def _call(
        self, step: str, *, body: bytes | None = None, content_type: str | None = None
    ) -> _Answer:
        headers = {"Authorization": self._authorization, "Accept": "application/xml"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(
            f"{self.base_url}/{step}",
            data=body,
            method="GET" if body is None else "POST",
            headers=headers,
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read(_MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as error:
            try:
                raw = error.read(_MAX_ANSWER_BYTES + 1)
            except OSError:
                raw = b""
            finally:
                error.close()
            answer = self._answer_of(step, raw, quiet=True)
            if answer is not None and answer.code != 0:
                self._raise(step, answer)
            raise self._http_error(step, error.code) from None
        except (OSError, ValueError) as error:  # URLError, refused, reset, timeout, bad URL
            reason = getattr(error, "reason", error)
            raise CyberTiplineError(
                None, f"could not reach {self.host} ({reason})", True, step=step
            ) from None
        answer = self._answer_of(step, raw, quiet=False)
        assert answer is not None
        if answer.code != 0:
            self._raise(step, answer)
        return answer

    def _answer_of(self, step: str, raw: bytes, *, quiet: bool) -> _Answer | None:
        problem: str
        if len(raw) > _MAX_ANSWER_BYTES:
            problem = "the answer is larger than 1 MiB"
        else:
            try:
                return _parse_answer(raw)
            except (ValueError, ET.ParseError) as error:
                problem = str(error)
        if quiet:
            return None
        raise CyberTiplineError(None, f"unreadable answer: {problem}", True, step=step)

    def _http_error(self, step: str, status: int) -> CyberTiplineError:
        if status in (401, 403):
            return CyberTiplineError(
                2000 if status == 401 else 3000,
                f"HTTP {status} without a readable answer",
                False,
                step=step,
            )
        if 300 <= status < 400:
            return CyberTiplineError(
                None,
                f"answered a redirect (HTTP {status}), not followed; check the destination URL",
                False,
                step=step,
            )
        retry = status >= 500 or status in (408, 429)
        return CyberTiplineError(None, f"{self.host} answered HTTP {status}", retry, step=step)

    @staticmethod
    def _raise(step: str, answer: _Answer) -> NoReturn:
        raise CyberTiplineError(answer.code, answer.description, _retry_for(answer.code), step=step)

    @staticmethod
    def _unusable(step: str, what: str) -> CyberTiplineError:
        return CyberTiplineError(None, f"the answer {what}", True, step=step)

    # --- steps ----------------------------------------------------------------------

    def status(self) -> str:
        """Check the credentials; NCMEC's description ("Remote User : ..., Remote Ip : ...")."""
        return self._call("status").description

    def submit(self, xml: bytes) -> int:
        """Open a report from its `<report>` XML; NCMEC's report id."""
        answer = self._call("submit", body=xml, content_type="text/xml; charset=utf-8")
        if answer.report_id is None or answer.report_id <= 0:
            raise self._unusable("submit", "has no reportId")
        return answer.report_id

    def upload(self, report_id: int, file_name: str, content: bytes) -> str:
        """Attach one file to an open report; NCMEC's file id (the MD5 it answers is checked)."""
        body, content_type = _multipart({"id": str(report_id)}, (file_name, content))
        answer = self._call("upload", body=body, content_type=content_type)
        if answer.file_id is None or not _FILE_ID.fullmatch(answer.file_id):
            raise self._unusable("upload", "has no usable fileId")
        if answer.hash is not None:
            if not _MD5.fullmatch(answer.hash):
                raise self._unusable("upload", "has a hash that is not an MD5")
            if answer.hash.lower() != hashlib.md5(content, usedforsecurity=False).hexdigest():
                raise self._unusable("upload", "has an MD5 that differs from the file sent")
        return answer.file_id

    def file_details(self, xml: bytes) -> None:
        """Send one file's `<fileDetails>` XML (it names the report and file ids)."""
        self._call("fileinfo", body=xml, content_type="text/xml; charset=utf-8")

    def finish(self, report_id: int) -> dict[str, Any]:
        """Complete an open report: {"report_id": int, "files": [NCMEC file ids]}."""
        body, content_type = _multipart({"id": str(report_id)}, None)
        answer = self._call("finish", body=body, content_type=content_type)
        if answer.report_id is not None and answer.report_id != report_id:
            raise self._unusable("finish", f"names report {answer.report_id}, not {report_id}")
        return {"report_id": report_id, "files": list(answer.file_ids)}

    def retract(self, report_id: int) -> None:
        """Cancel an open (unfinished) report."""
        body, content_type = _multipart({"id": str(report_id)}, None)
        self._call("retract", body=body, content_type=content_type)


# --- the whole flow --------------------------------------------------------------------


def _pair_files(
    report: Report, files: Sequence[OutgoingFile]
) -> list[tuple[OutgoingFile, ReportFile]]:
    """Each file's bytes with its entry in the report; ValueError unless they match 1:1."""
    described = {file.file_id: file for file in report.files}
    given = [file.file_id for file in files]
    if len(set(given)) != len(given):
        raise ValueError("a file's bytes are given twice")
    unknown = sorted(set(given) - set(described))
    if unknown:
        raise ValueError(f"files not in the report: {', '.join(unknown[:5])}")
    missing = [file_id for file_id in described if file_id not in given]
    if missing:
        raise ValueError(f"the report's files without bytes to upload: {', '.join(missing[:5])}")
    return [(file, described[file.file_id]) for file in files]


def submit_report(
    client: CyberTiplineClient, payload: dict[str, Any], files: Sequence[OutgoingFile]
) -> dict[str, Any]:
    """File one Haven report (`payload`, Haven format JSON) with every file's bytes.

    Checks the credentials, submits the report XML, uploads each file and sends its details,
    then finishes; the receipt names NCMEC's report id and each file's id there. Raises
    ValueError (nothing sent) for a payload that is not a valid report, files that do not
    match the report's, or a synthetic report to the production host; CyberTiplineError for
    a step that failed, after retracting the opened report (best effort).
    """
    report = parse_report(payload)
    pairs = _pair_files(report, files)
    if report.synthetic and client.host == PRODUCTION_HOST:
        raise ValueError("a synthetic report is never sent to the production CyberTipline")
    document = report_xml(report)
    client.status()
    report_id = client.submit(document)
    file_ids: dict[str, str] = {}
    step = "upload"
    try:
        for outgoing, described in pairs:
            step = "upload"
            ncmec_file_id = client.upload(report_id, outgoing.name, outgoing.content)
            file_ids[outgoing.file_id] = ncmec_file_id
            step = "fileinfo"
            client.file_details(
                file_details_xml(str(report_id), described, file_id_at_ncmec=ncmec_file_id)
            )
        step = "finish"
        client.finish(report_id)
    except CyberTiplineError as error:
        try:
            client.retract(report_id)
        except CyberTiplineError as retract_error:
            if step == "finish" and retract_error.code == REPORT_ALREADY_FINISHED:
                # The finish went through and only its answer was lost.
                return _receipt(report_id, file_ids)
            raise error.with_context(
                f"Report {report_id} could not be retracted ({retract_error})."
            ) from error
        raise error.with_context(f"Report {report_id} was retracted.") from error
    return _receipt(report_id, file_ids)


def _receipt(report_id: int, file_ids: dict[str, str]) -> dict[str, Any]:
    return {
        "destination": "cybertipline",
        "receipt_id": str(report_id),
        "report_id": str(report_id),
        "files": dict(file_ids),
        "finished_at": datetime.now(UTC).isoformat(),
    }


def deliver(
    destination_url: str,
    username: str,
    password: str,
    payload: dict[str, Any],
    files: Sequence[OutgoingFile],
    *,
    timeout: float = 30,
) -> dict[str, Any]:
    """`submit_report` for the outbox: its receipt, or `outbox.DeliveryError(retry=...)`."""
    # Imported here: the outbox imports this module to call deliver (no import cycle).
    from haven.reports.outbox import DeliveryError

    try:
        client = CyberTiplineClient(destination_url, username, password, timeout=timeout)
        return submit_report(client, payload, files)
    except CyberTiplineError as error:
        raise DeliveryError(str(error), retry=error.retry) from None
    except ValueError as error:
        raise DeliveryError(f"CyberTipline: {error}", retry=False) from None
