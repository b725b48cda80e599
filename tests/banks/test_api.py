"""The API contract, with real bearer tokens: matching, hashing, banks, entries, the index.

Other tools script these endpoints, so the shapes are asserted exactly; every failure must
be the one error shape with the right status (400 for bad input, never 500).
"""

from __future__ import annotations

import io
import json
import random
import string
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from tests.banks.helpers import flip_bits, random_pdq

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal
from haven.audit.models import AuditEntry
from haven.banks import services
from haven.banks.api import HashParseError, parse_hashes
from haven.banks.models import Bank, BankEntry
from haven.media.signals import SIGNAL_TYPES, MalformedHash

pytestmark = pytest.mark.django_db

Api = Callable[..., Client]


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, json.dumps(body), content_type="application/json")


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["code"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def bank(analyst: Principal) -> Bank:
    return services.create_bank(analyst, name="Hotline list", threshold=31)


# -- /match ---------------------------------------------------------------------------------


def test_match_contract(api: Api, analyst: Principal, bank: Bank) -> None:
    rng = random.Random(1)
    digest = random_pdq(rng)
    entry = services.add_entry(
        analyst, bank, signal_type="pdq", hash_hex=digest.hex(), external_id="x-1",
        classification="A1",
    )  # fmt: skip
    near = flip_bits(digest, 7, rng)
    other = random_pdq(rng)
    response = post(api(["match"]), "/api/v1/match", {"hashes": [near.hex().upper(), other.hex()]})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "results": [
            {
                "hash": near.hex(),
                "matches": [
                    {
                        "bank": "Hotline list",
                        "bank_id": bank.pk,
                        "entry_id": entry.pk,
                        "external_id": "x-1",
                        "distance": 7,
                        "classification": "A1",
                        "signal_type": "pdq",
                    }
                ],
                "suppressed": [],
                "allowed_by": [],
            },
            {"hash": other.hex(), "matches": [], "suppressed": [], "allowed_by": []},
        ],
        "videos": [],
    }


def test_match_options(api: Api, analyst: Principal, bank: Bank) -> None:
    rng = random.Random(2)
    digest = random_pdq(rng)
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    second = services.create_bank(analyst, name="Second")
    services.add_entry(analyst, second, signal_type="pdq", hash_hex=digest.hex())
    services.add_entry(analyst, bank, signal_type="md5", hash_hex="ab" * 16)
    client = api(["match"])
    near = flip_bits(digest, 9, rng).hex()

    def banks_hit(body: dict[str, Any]) -> list[str]:
        response = post(client, "/api/v1/match", body)
        assert response.status_code == 200, response.content
        return sorted(h["bank"] for h in response.json()["results"][0]["matches"])

    assert banks_hit({"hashes": [near]}) == ["Hotline list", "Second"]
    assert banks_hit({"hashes": [near], "banks": ["Second"]}) == ["Second"]
    assert banks_hit({"hashes": [near], "banks": [bank.pk]}) == ["Hotline list"]
    assert banks_hit({"hashes": [near], "radius": 8}) == []
    assert banks_hit({"hashes": [near], "radius": 9}) == ["Hotline list", "Second"]
    assert banks_hit({"hashes": ["AB" * 16], "signal_type": "md5"}) == ["Hotline list"]


def test_match_videos(api: Api, analyst: Principal, bank: Bank) -> None:
    rng = random.Random(3)
    frames = [random_pdq(rng) for _ in range(5)]
    text = "".join(f"{i},100,{f.hex()}\n" for i, f in enumerate(frames))
    services.import_hash_list(analyst, bank, text, "clip.vpdq")
    upload = [[f.hex(), 90] for f in frames[:4]] + [[random_pdq(rng).hex(), 90]]
    response = post(api(["match"]), "/api/v1/match", {"videos": [{"frames": upload}]})
    assert response.status_code == 200, response.content
    (video,) = response.json()["videos"]
    (hit,) = video["matches"]
    assert hit["external_id"] == "clip.vpdq" and hit["bank"] == "Hotline list"
    assert (hit["frames_matched"], hit["frames_total"], hit["banked_share"]) == (4, 5, 0.8)
    response = post(api(["match"]), "/api/v1/match", {"videos": [{"frames": upload[:3]}]})
    assert response.json()["videos"] == [{"matches": []}]


@pytest.mark.parametrize(
    ("hashes", "message"),
    [
        (["a" * 64] * 3 + ["a" * 63], "hashes[3]: pdq hash must be 64 hex digits, got 63"),
        (["g" * 64], "hashes[0]: pdq hash has a non-hex character 'g'"),
        (["a" * 32 + " " + "a" * 31], "hashes[0]: pdq hash has a non-hex character ' '"),
        ([12], "hashes[0]: pdq hash must be a string, got int"),
        ([None], "hashes[0]: pdq hash must be a string, got NoneType"),
        (["é" * 64], "hashes[0]: pdq hash has a non-hex character 'é'"),
    ],
)  # fmt: skip
def test_malformed_hash_is_400_naming_it(api: Api, hashes: list[Any], message: str) -> None:
    error = error_of(post(api(["match"]), "/api/v1/match", {"hashes": hashes}), 400)
    assert error["message"] == message and error["code"] == "malformed_hash"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"hashes": ["a" * 64] * 1001}, 400, "at most 1,000 hashes per request, got 1,001"),
        ({"hashes": ["a" * 64], "signal_type": "sha1"}, 400, "signal_type"),
        ({"hashes": ["a" * 64], "radius": 65}, 400, "radius"),
        ({"hashes": ["a" * 64], "radius": -1}, 400, "radius"),
        ({"hashes": "a" * 64}, 400, "hashes"),
        ({"hashes": ["a" * 64], "signal_type": "md5"}, 400, "md5 hash must be 32 hex digits"),
        ({"videos": [{"frames": [["a" * 64, 101]]}]}, 400, "videos[0].frames[0]: quality"),
        ({"videos": [{"frames": [["a" * 63, 50]]}]}, 400, "videos[0].frames[0]: pdq hash"),
        ({"videos": [{"frames": "x"}]}, 400, "frames"),
        ({"hashes": ["a" * 64], "banks": [999_999]}, 404, "no such bank: 999999"),
        ({"hashes": ["a" * 64], "banks": ["nope"]}, 404, "no such bank: 'nope'"),
    ],
)
def test_bad_match_requests(api: Api, body: Any, status: int, fragment: str) -> None:
    assert fragment in error_of(post(api(["match"]), "/api/v1/match", body), status)["message"]


def test_exactly_1000_hashes_is_fine(api: Api) -> None:
    response = post(api(["match"]), "/api/v1/match", {"hashes": ["a" * 64] * 1000})
    assert response.status_code == 200 and len(response.json()["results"]) == 1000


def test_not_json_is_400(api: Api) -> None:
    response = api(["match"]).post("/api/v1/match", "{", content_type="application/json")
    error_of(response, 400)


def test_match_sees_only_banks_in_reach(
    api: Api, analyst: Principal, outsider: Principal, other_agency: Agency
) -> None:
    digest = random_pdq(random.Random(4))
    theirs = services.create_bank(outsider, name="Theirs")
    services.add_entry(outsider, theirs, signal_type="pdq", hash_hex=digest.hex())
    client = api(["match"])  # a token of agency A
    response = post(client, "/api/v1/match", {"hashes": [digest.hex()]})
    assert response.json()["results"][0]["matches"] == []
    error = error_of(post(client, "/api/v1/match", {"hashes": [], "banks": [theirs.pk]}), 404)
    assert error["message"] == f"no such bank: {theirs.pk}"
    error_of(post(client, "/api/v1/match", {"hashes": [], "banks": ["Theirs"]}), 404)
    # Their own token finds it.
    mine = api(["match"], of=other_agency)
    assert post(mine, "/api/v1/match", {"hashes": [digest.hex()]}).json()["results"][0]["matches"]


def test_allow_list_in_reach_applies_even_when_banks_are_named(
    api: Api, analyst: Principal, bank: Bank
) -> None:
    digest = random_pdq(random.Random(5))
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    allow = services.create_bank(analyst, name="Benign", is_allow_list=True)
    services.add_entry(analyst, allow, signal_type="pdq", hash_hex=digest.hex())
    body = post(api(["match"]), "/api/v1/match", {"hashes": [digest.hex()], "banks": [bank.pk]})
    (result,) = body.json()["results"]
    assert result["matches"] == []
    assert [h["bank"] for h in result["suppressed"]] == ["Hotline list"]
    assert [h["bank"] for h in result["allowed_by"]] == ["Benign"]


def test_auth_and_scopes(api: Api, client: Client) -> None:
    body = {"hashes": ["a" * 64]}
    error = error_of(post(client, "/api/v1/match", body), 401)
    assert error["code"] == "unauthenticated"
    wrong = Client(HTTP_AUTHORIZATION="Bearer hvn_nope_nope")
    error_of(post(wrong, "/api/v1/match", body), 401)
    error = error_of(post(api(["hash"]), "/api/v1/match", body), 403)
    assert "'match'" in error["message"]
    for path in ("/api/v1/banks", "/api/v1/index"):
        error_of(api(["match"]).get(path), 403)
        error_of(client.get(path), 401)


# -- request hash parsing -------------------------------------------------------------------


@given(st.lists(st.one_of(st.text(max_size=70), st.integers(), st.none()), max_size=5))
def test_parse_hashes_agrees_with_the_engine(items: list[Any]) -> None:
    """The fast parser accepts exactly what `SignalType.parse` accepts, with its message."""
    expected: list[bytes] = []
    failure = None
    for i, item in enumerate(items):
        try:
            expected.append(SIGNAL_TYPES["pdq"].parse(item))
        except MalformedHash as exc:
            failure = f"hashes[{i}]: {exc}"
            break
    if failure is None:
        assert parse_hashes(items) == expected
    else:
        with pytest.raises(HashParseError) as raised:
            parse_hashes(items)
        assert str(raised.value) == failure


hex_digits = st.text(alphabet=string.hexdigits, min_size=64, max_size=64)


@given(st.lists(hex_digits, max_size=20), st.sampled_from(["", " ", "\t", "\n"]))
def test_parse_hashes_valid_inputs(items: list[str], pad: str) -> None:
    assert parse_hashes([pad + h + pad for h in items]) == [bytes.fromhex(h) for h in items]


@given(hex_digits, st.integers(0, 63), st.characters())
def test_parse_hashes_one_bad_character(text: str, at: int, char: str) -> None:
    broken = text[:at] + char + text[at + 1 :]
    try:
        expected: bytes | None = SIGNAL_TYPES["pdq"].parse(broken)
    except MalformedHash:
        expected = None
    if expected is None:
        with pytest.raises(HashParseError, match=r"^hashes\[1\]: "):
            parse_hashes(["0" * 64, broken])
    else:
        assert parse_hashes(["0" * 64, broken])[1] == expected


@given(st.text(alphabet=string.hexdigits, min_size=32, max_size=32))
def test_parse_md5(text: str) -> None:
    assert parse_hashes([text], "md5") == [bytes.fromhex(text)]
    with pytest.raises(HashParseError, match="md5 hash must be 32 hex digits, got 64"):
        parse_hashes([text * 2], "md5")


# -- /hash ----------------------------------------------------------------------------------


def _png(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    pixels = np.kron(pixels[::8, ::8], np.ones((8, 8, 1), dtype=np.uint8))  # blocky: quality
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.mark.parametrize("spooled", [False, True])
def test_hash_an_image(api: Api, settings: Any, spooled: bool) -> None:
    if spooled:  # large uploads arrive as a temporary file under the media folder
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    data = _png()
    response = api(["hash"]).post("/api/v1/hash", {"file": _upload("image.png", data)})
    assert response.status_code == 200, response.content
    body = response.json()
    import hashlib

    assert body["type"] == "image" and body["md5"] == hashlib.md5(data).hexdigest()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(body["pdq"]) == 64 and 0 <= body["quality"] <= 100
    assert len(body["dihedral"]) == 8 and body["dihedral"][0] == body["pdq"]
    assert "path" not in body
    # Nothing is left behind in the media folder.
    incoming = settings.HAVEN.media_dir / "incoming"
    assert not [p for p in incoming.iterdir() if p.name.startswith("hash-")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"plain text, not an image", "not_media"),
        (_png()[:200], "truncated"),
    ],
)
def test_hash_bad_media_is_400_with_engine_code(api: Api, data: bytes, code: str) -> None:
    response = api(["hash"]).post("/api/v1/hash", {"file": _upload("x.png", data)})
    assert error_of(response, 400)["code"] == code


def test_hash_needs_a_file_and_the_scope(api: Api) -> None:
    error_of(api(["hash"]).post("/api/v1/hash", {}), 400)
    error_of(api(["hash"]).post("/api/v1/hash", "{}", content_type="application/json"), 400)
    error_of(api(["match"]).post("/api/v1/hash", {"file": _upload("a.png", _png())}), 403)


def test_hash_too_large_is_413(api: Api, settings: Any) -> None:
    from dataclasses import replace

    settings.HAVEN = replace(settings.HAVEN, max_upload_bytes=1000)
    response = api(["hash"]).post("/api/v1/hash", {"file": _upload("a.png", b"x" * 5000)})
    assert error_of(response, 413)["code"] == "too_large"
    response = api(["hash"]).post("/api/v1/hash", {"file": _upload("a.png", b"x" * 100_000)})
    error_of(response, 413)


# -- banks ----------------------------------------------------------------------------------


def test_bank_crud(api: Api, analyst: Principal) -> None:
    client = api()
    response = post(client, "/api/v1/banks", {"name": "From the API", "threshold": 20})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "From the API" and created["threshold"] == 20
    assert created["entries"] == 0 and created["is_allow_list"] is False
    bank_id = created["id"]
    listed = client.get("/api/v1/banks").json()
    assert [b["id"] for b in listed] == [bank_id]
    response = patch(client, f"/api/v1/banks/{bank_id}", {"threshold": 10, "enabled": False})
    assert response.status_code == 200 and response.json()["threshold"] == 10
    assert client.get(f"/api/v1/banks/{bank_id}").json()["enabled"] is False
    assert AuditEntry.objects.filter(action="bank.update", actor__startswith="token:").exists()
    error = error_of(post(client, "/api/v1/banks", {"name": "From the API"}), 400)
    assert "already exists" in error["message"]
    error_of(post(client, "/api/v1/banks", {"name": "x", "threshold": 99}), 400)
    error_of(patch(client, f"/api/v1/banks/{bank_id}", {"threshold": "lots"}), 400)
    error_of(client.get("/api/v1/banks/99999999"), 404)
    error_of(client.get(f"/api/v1/banks/{2**70}"), 400)


def test_bank_permissions_and_reach(api: Api, bank: Bank, other_agency: Agency) -> None:
    reader = api(["banks:read"])
    assert reader.get(f"/api/v1/banks/{bank.pk}").status_code == 200
    error_of(post(reader, "/api/v1/banks", {"name": "nope"}), 403)
    error_of(patch(reader, f"/api/v1/banks/{bank.pk}", {"threshold": 3}), 403)
    error_of(reader.get(f"/api/v1/banks/{bank.pk}/export"), 403)
    foreign = api(of=other_agency)
    error_of(foreign.get(f"/api/v1/banks/{bank.pk}"), 404)
    error_of(patch(foreign, f"/api/v1/banks/{bank.pk}", {"threshold": 3}), 404)
    error_of(foreign.get(f"/api/v1/banks/{bank.pk}/entries"), 404)
    error_of(foreign.get(f"/api/v1/banks/{bank.pk}/export"), 404)
    assert foreign.get("/api/v1/banks").json() == []
    assert Bank.objects.get(pk=bank.pk).threshold == 31


def test_entries(api: Api, bank: Bank) -> None:
    client = api()
    base = f"/api/v1/banks/{bank.pk}/entries"
    response = post(client, base, {"hash": "A" * 64, "external_id": "e-1", "classification": "B1"})
    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["hash"] == "a" * 64 and entry["classification"] == "B1"
    assert entry["source_list"] == "manual" and entry["enabled"] is True
    post(client, base, {"hash": "b" * 64, "external_id": "e-2"})
    post(client, base, {"hash": "c" * 32, "signal_type": "md5", "external_id": "m-1"})
    error = error_of(post(client, base, {"hash": "a" * 63}), 400)
    assert error["message"] == "pdq hash must be 64 hex digits, got 63"
    error_of(post(client, base, {"hash": "a" * 64, "classification": "Q"}), 400)
    page = client.get(base, {"limit": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 2 and page["limit"] == 2
    assert client.get(base, {"offset": 2}).json()["items"][0]["external_id"] == "m-1"
    assert client.get(base, {"external_id": "e-"}).json()["count"] == 2
    assert client.get(base, {"hash": "B" * 64}).json()["items"][0]["external_id"] == "e-2"
    assert client.get(base, {"hash": "c" * 32}).json()["count"] == 1
    error_of(client.get(base, {"hash": "zz"}), 400)
    error_of(client.get(base, {"limit": 5000}), 400)
    url = f"{base}/{entry['id']}"
    response = patch(client, url, {"enabled": False, "note": "withdrawn by the hotline"})
    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False and response.json()["note"].startswith("withdrawn")
    assert client.get(base, {"enabled": "false"}).json()["count"] == 1
    assert client.get(url).json()["enabled"] is False
    error_of(patch(client, url, {"classification": "nonsense"}), 400)
    error_of(client.get(f"{base}/99999999"), 404)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"bank.entry_add", "bank.entry_disable", "bank.entry_update"} <= actions


def test_disabled_entry_stops_matching_through_the_api(
    api: Api, bank: Bank, django_capture_on_commit_callbacks: Any
) -> None:
    """At once in this process (the commit hook syncs its matcher): no waiting here."""
    client = api()
    digest = "d" * 64
    with django_capture_on_commit_callbacks(execute=True):
        entry = post(client, f"/api/v1/banks/{bank.pk}/entries", {"hash": digest}).json()
    assert post(client, "/api/v1/match", {"hashes": [digest]}).json()["results"][0]["matches"]
    with django_capture_on_commit_callbacks(execute=True):
        patch(client, f"/api/v1/banks/{bank.pk}/entries/{entry['id']}", {"enabled": False})
    assert not post(client, "/api/v1/match", {"hashes": [digest]}).json()["results"][0]["matches"]


def test_import_and_export(api: Api, bank: Bank) -> None:
    client = api()
    url = f"/api/v1/banks/{bank.pk}/import"
    text = "id,hash,classification\nx-1," + "a" * 64 + ",A1\nx-2," + "b" * 64 + ",A2\n"
    response = client.post(url, {"file": _upload("hotline.csv", text.encode())})
    assert response.status_code == 200, response.content
    assert response.json() == {"added": 2, "duplicates": 0, "total": 2, "errors": []}
    again = post(client, url, {"text": text, "format": "csv", "source_name": "hotline.csv"})
    assert again.json()["duplicates"] == 2
    plain = post(client, url, {"text": "c" * 64 + "\n", "classification": "B1"})
    assert plain.json()["added"] == 1
    assert BankEntry.objects.get(external_id="upload:1").classification == "B1"
    exported = client.get(f"/api/v1/banks/{bank.pk}/export", {"format": "csv"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert "attachment" in exported["Content-Disposition"]
    lines = exported.content.decode().splitlines()
    assert lines[0].startswith("id,signal_type,hash") and len(lines) == 4
    plain_export = client.get(f"/api/v1/banks/{bank.pk}/export", {"format": "plain"})
    assert plain_export.content.decode().split() == ["a" * 64, "b" * 64, "c" * 64]
    assert AuditEntry.objects.filter(action="bank.export").count() == 2
    error_of(client.get(f"/api/v1/banks/{bank.pk}/export", {"format": "xml"}), 400)
    error_of(client.get(f"/api/v1/banks/{bank.pk}/export", {"format": "vpdq"}), 400)


@pytest.mark.parametrize(
    ("kind", "payload", "status", "fragment"),
    [
        ("json", {"text": "a" * 63}, 400, "upload:1: pdq hash must be 64 hex digits, got 63"),
        ("json", {"format": "csv"}, 400, "text"),
        ("json", {"text": "a" * 64, "format": "xml"}, 400, "format"),
        ("json", [1, 2], 400, "JSON object"),
        ("file", b"\xff\xfe\x00bad", 400, "not a UTF-8 text file"),
        ("none", None, 400, "multipart/form-data"),
    ],
)
def test_bad_imports(
    api: Api, bank: Bank, kind: str, payload: Any, status: int, fragment: str
) -> None:
    client = api()
    url = f"/api/v1/banks/{bank.pk}/import"
    if kind == "json":
        response = post(client, url, payload)
    elif kind == "file":
        response = client.post(url, {"file": _upload("x.txt", payload)})
    else:
        response = client.post(url, "a" * 64, content_type="text/plain")
    assert fragment in error_of(response, status)["message"]
    assert not BankEntry.objects.exists()


def test_import_too_large_is_413(api: Api, bank: Bank, settings: Any) -> None:
    from dataclasses import replace

    settings.HAVEN = replace(settings.HAVEN, max_upload_bytes=100)
    client = api()
    url = f"/api/v1/banks/{bank.pk}/import"
    response = client.post(url, {"file": _upload("big.txt", b"a" * 64 * 3)})
    error_of(response, 413)
    response = post(client, url, {"text": ("a" * 64 + "\n") * 2000})
    error_of(response, 413)
    response = post(client, url, {"text": ("a" * 64 + "\n") * 2})  # fits the request cap
    assert "larger than the 100-byte limit" in error_of(response, 400)["message"]


def test_index_status(api: Api, analyst: Principal, bank: Bank) -> None:
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex="e" * 64)
    body = api(["index:read"]).get("/api/v1/index").json()
    assert body["entries"]["pdq"] == 1 and body["banks"] == 1
    assert set(body) == {
        "entries", "banks", "cursor", "built_at", "synced_at", "memory_bytes", "lookups_total",
    }  # fmt: skip


def test_openapi_documents_the_endpoints(client: Client) -> None:
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/api/v1/match", "post"),
        ("/api/v1/hash", "post"),
        ("/api/v1/banks", "get"),
        ("/api/v1/banks", "post"),
        ("/api/v1/banks/{bank_id}", "patch"),
        ("/api/v1/banks/{bank_id}/entries", "get"),
        ("/api/v1/banks/{bank_id}/entries/{entry_id}", "patch"),
        ("/api/v1/banks/{bank_id}/import", "post"),
        ("/api/v1/banks/{bank_id}/export", "get"),
        ("/api/v1/index", "get"),
    ]:
        operation = paths[path][method]
        for status in ("400", "401", "403"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorResponse"), (path, status)
    match = paths["/api/v1/match"]["post"]
    assert match["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/MatchOut"
    )
    schemas = document["components"]["schemas"]
    assert schemas["MatchIn"]["properties"]["hashes"]["maxItems"] == 1000
    upload = paths["/api/v1/hash"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"]["format"] == "binary"


def test_match_body_over_the_cap_is_413(api: Api, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(api(["match"]), "/api/v1/match", {"hashes": ["a" * 64] * 100})
    assert error_of(response, 413)["code"] == "too_large"


def _mp4(path: Any, seconds: int = 4, fps: int = 10) -> bytes:
    import av

    rng = np.random.default_rng(5)
    blocks = rng.integers(20, 236, (6, 8, 3)).astype(np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"  # type: ignore[union-attr]
        for index in range(seconds * fps):
            pixels = np.kron(np.roll(blocks, index // fps, axis=1), np.ones((20, 20, 1), np.uint8))
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))  # type: ignore[union-attr]
        container.mux(stream.encode(None))  # type: ignore[union-attr]
    return bytes(path.read_bytes())


def test_hash_a_video_bank_it_and_find_it(api: Api, bank: Bank, tmp_path: Any) -> None:
    """The whole path: /hash gives a video's frames, they are banked as a vPDQ list, and
    /match finds the video from the frames of the same upload."""
    client = api()
    data = _mp4(tmp_path / "clip.mp4")
    response = client.post("/api/v1/hash", {"file": _upload("clip.mp4", data)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "video" and len(body["frames"]) == 4
    frames = body["frames"]
    assert {"number", "quality", "pdq", "seconds"} <= set(frames[0])
    text = "".join(f"{f['number']},{f['quality']},{f['pdq']}\n" for f in frames)
    imported = post(client, f"/api/v1/banks/{bank.pk}/import", {"text": text, "format": "vpdq"})
    assert imported.json()["added"] == 1, imported.content
    pairs = [[f["pdq"], f["quality"]] for f in frames]
    found = post(client, "/api/v1/match", {"videos": [{"frames": pairs}]}).json()
    (hit,) = found["videos"][0]["matches"]
    assert hit["banked_share"] == 1.0 and hit["bank_id"] == bank.pk
