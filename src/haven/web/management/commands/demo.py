"""`haven demo` (what `make demo` runs): migrate, set up demo users and benign banks, serve.

With the environment variable CI set (or `--smoke`), the same set-up is followed by a short
smoke flow through the real HTTP server — sign-in page, hash a demo file, match its hash,
a malformed hash refused with a 400, a spelled-out phone read by the text scan — and the
command exits: 0 when every step behaved.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from rich.console import Console

from haven.accounts.models import Agency, ApiToken
from haven.web.demo_setup import DEMO_AGENCY, DemoSetup, setup_demo

__all__ = ["Command"]


class SmokeFailure(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(
    url: str, *, token: str = "", body: bytes | None = None, content_type: str = ""
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _current_code(secret: str) -> str:
    import base64

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


class Command(BaseCommand):
    help = "Set up a demo node (users for every role, benign banks) and serve it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--smoke",
            action="store_true",
            help="run the smoke flow through the API and exit (default when CI is set)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(stderr=True, emoji=False)
        smoke = options["smoke"] or bool(os.environ.get("CI"))
        console.print("[bold]Haven demo[/]: synthetic users, benign stand-ins for known material")
        call_command("migrate", verbosity=0, interactive=False)
        with console.status("building the benign demo corpus and banks"):
            demo = setup_demo(settings.HAVEN.data_dir / "demo", small=smoke)
        self._print_users(demo)
        if smoke:
            try:
                self._smoke(demo, console)
            except SmokeFailure as failure:
                raise CommandError(f"demo smoke flow failed: {failure}") from None
            console.print("[green]demo smoke flow passed[/]")
            return
        url = f"http://{options['host']}:{options['port']}/"
        console.print(
            f"\nOpen [bold]{url}[/] and sign in as one of the users above. Roles marked with a "
            "TOTP secret enrol it in an authenticator app (or use the current code shown; "
            "it changes every 30 s). The API's documentation is at "
            f"{url}api/docs; get a token with `haven token create NAME`.\n"
            "Stop with Ctrl+C."
        )
        call_command("serve", host=options["host"], port=options["port"])

    def _print_users(self, demo: DemoSetup) -> None:
        # Plain lines, not a table: a narrow terminal must not cut a password short.
        self.stdout.write("demo users (synthetic; passwords change at every run):")
        for user in demo.users:
            second = "  (no second factor needed)"
            if user.totp_secret:
                code = _current_code(user.totp_secret)
                second = f"  TOTP secret {user.totp_secret}  (current code {code})"
            self.stdout.write(
                f"  {user.username:<11} {user.role:<18} password {user.password}{second}"
            )
        self.stdout.write(f"demo bank: {demo.bank_entries} PDQ entries; demo corpus: {demo.corpus}")
        self.stdout.write(
            f"demo ads: {demo.ads} synthetic ads in {demo.clusters} clusters (Ad networks)"
        )

    def _smoke(self, demo: DemoSetup, console: Console) -> None:
        agency = Agency.objects.get(name=DEMO_AGENCY)
        _, token = ApiToken.issue("demo smoke flow", ["hash", "match", "text:scan"], agency)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "haven.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                "1",
                "--access-log",
                "off",
            ],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "haven.web.settings"},
        )
        try:
            self._wait_for(base, server)
            self._check_pages(base)
            self._check_api(base, token, demo)
            self._check_text_scan(base, token)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        console.print(
            f"smoke flow: server on {base}, sign-in page, /hash, /match, bad input, /text/scan"
        )

    def _check_text_scan(self, base: str, token: str) -> None:
        text = "Synthetic ad. Call two oh two five five five oh one four two."
        status, _, answer = _request(
            f"{base}/api/v1/text/scan",
            token=token,
            body=json.dumps({"items": [{"id": "smoke", "text": text, "region": "US"}]}).encode(),
            content_type="application/json",
        )
        if status != 200:
            raise SmokeFailure(f"POST /api/v1/text/scan answered {status}: {answer[:200]!r}")
        entities = json.loads(answer)["results"][0]["entities"]
        if not any(e["normalized"] == "+12025550142" and e["obscured"] for e in entities):
            raise SmokeFailure("the text scan did not read a spelled-out phone number")

    def _wait_for(self, base: str, server: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SmokeFailure(f"the server exited with status {server.returncode}")
            try:
                status, _, _ = _request(f"{base}/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SmokeFailure("the server did not answer /healthz within 90 s")

    def _check_pages(self, base: str) -> None:
        status, headers, body = _request(f"{base}/accounts/login/")
        if status != 200 or b"Sign in" not in body:
            raise SmokeFailure(f"sign-in page answered {status}")
        policy = {k.lower(): v for k, v in headers.items()}.get("content-security-policy", "")
        if "default-src 'none'" not in policy:
            raise SmokeFailure("the sign-in page has no strict Content-Security-Policy")

    def _check_api(self, base: str, token: str, demo: DemoSetup) -> None:
        name = sorted(n for n in demo.expected_matches if "--" not in n)[0]  # an unedited file
        body, content_type = _multipart("file", name, (demo.corpus / name).read_bytes())
        status, _, answer = _request(
            f"{base}/api/v1/hash", token=token, body=body, content_type=content_type
        )
        if status != 200:
            raise SmokeFailure(f"POST /api/v1/hash answered {status}: {answer[:200]!r}")
        pdq = json.loads(answer)["pdq"]
        status, _, answer = _request(
            f"{base}/api/v1/match",
            token=token,
            body=json.dumps({"hashes": [pdq]}).encode(),
            content_type="application/json",
        )
        if status != 200:
            raise SmokeFailure(f"POST /api/v1/match answered {status}: {answer[:200]!r}")
        matches = json.loads(answer)["results"][0]["matches"]
        if not matches:
            raise SmokeFailure(f"{name}, a known demo file, did not match the demo bank")
        status, _, answer = _request(
            f"{base}/api/v1/match",
            token=token,
            body=json.dumps({"hashes": ["not-a-hash"]}).encode(),
            content_type="application/json",
        )
        if status != 400 or b"hashes[0]" not in answer:
            raise SmokeFailure(f"a malformed hash answered {status}, not a clear 400")
        status, _, _ = _request(f"{base}/api/v1/match", body=b"{}", content_type="application/json")
        if status != 401:
            raise SmokeFailure(f"a request without a token answered {status}, not 401")
