"""`POST /api/v1/text/scan`: the exact response shape, E.164 phones, regions, and refusals.

Other tools script this endpoint, so the shape is asserted field by field; every bad
request is a 4xx in the one error shape naming the item and field, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.ads.api import MAX_SCAN_CHARS, MAX_SCAN_ITEMS
from haven.ads.reader import MAX_TEXT_CHARS
from haven.audit.models import AuditEntry
from haven.web.config import load_config

pytestmark = pytest.mark.django_db

Api = Callable[..., Client]
SPELLED = "Synthetic ad. Call two oh two, five five five, oh one four two any time."


def scan(client: Client, body: Any) -> Any:
    return client.post("/api/v1/text/scan", json.dumps(body), content_type="application/json")


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return body["error"]  # type: ignore[no-any-return]


def test_the_response_has_exactly_the_documented_shape(api: Api) -> None:
    response = scan(api(), {"items": [{"id": "a1", "text": SPELLED, "lang": "en", "region": "US"}]})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert set(result) == {"id", "entities", "indicators", "score", "reasons"}
    assert result["id"] == "a1"
    phone = next(e for e in result["entities"] if e["type"] == "phone")
    assert set(phone) == {"type", "value", "normalized", "span", "obscured"}
    assert phone["normalized"] == "+12025550142" and phone["obscured"] is True
    start, end = phone["span"]
    assert SPELLED[start:end] == phone["value"]
    assert isinstance(result["score"], float) and 0 <= result["score"] <= 100
    for hit in result["indicators"]:
        assert set(hit) == {"id", "category", "grade", "span", "reason"}
        assert hit["grade"] in {"V", "H", "X", "N"}
    assert any(h["id"] == "obscured_contact" for h in result["indicators"])
    assert result["reasons"]


def test_results_keep_the_order_and_ids_of_the_items(api: Api) -> None:
    items = [{"id": k, "text": f"Synthetic text {k}"} for k in (5, 3, 9)]
    items.append({"id": "x", "text": "Synthetic text"})
    results = scan(api(), {"items": items}).json()["results"]
    assert [r["id"] for r in results] == [5, 3, 9, "x"]


def test_region_reads_numbers_without_a_country_code(api: Api) -> None:
    text = "Synthetic. Appelle le 01 99 00 12 34"
    body = {"items": [{"id": "fr", "text": text, "region": "FR"}, {"id": "us", "text": text}]}
    fr, us = scan(api(), body).json()["results"]
    assert {e["normalized"] for e in fr["entities"] if e["type"] == "phone"} == {"+33199001234"}
    assert not [e for e in us["entities"] if e["type"] == "phone"]  # not a US number


def test_the_default_region_is_the_nodes_setting(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAVEN_PHONE_REGION", "fr")
    with override_settings(HAVEN=load_config()):
        result = scan(api(), {"items": [{"id": 1, "text": "Synthetic. 01 99 00 12 34"}]})
    phones = [e["normalized"] for e in result.json()["results"][0]["entities"]]
    assert "+33199001234" in phones


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"id": "a", "text": "x", "region": "XX"}], "items[0].region"),
        ([{"id": "a", "text": "x"}, {"id": "b", "text": "y", "lang": "de"}], "items[1].lang"),
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "items[1].id"),
        ([{"id": " ", "text": "x"}], "items[0].id"),
        ([{"id": "a", "text": "x" * (MAX_TEXT_CHARS + 1)}], "items[0].text"),
        ([], "items"),
    ],
)
def test_a_bad_item_is_named_and_nothing_is_scanned(
    api: Api, items: list[dict[str, Any]], field: str
) -> None:
    error = error_of(scan(api(), {"items": items}), 400)
    assert error["details"][0]["field"] == field
    assert field in error["message"]


def test_too_many_items_or_too_much_text_is_refused(api: Api) -> None:
    many = [{"id": k, "text": "x"} for k in range(MAX_SCAN_ITEMS + 1)]
    assert error_of(scan(api(), {"items": many}), 400)["code"] == "too_many_items"
    size = MAX_TEXT_CHARS
    big = [{"id": k, "text": "y" * size} for k in range(MAX_SCAN_CHARS // size + 1)]
    assert error_of(scan(api(), {"items": big}), 413)["code"] == "too_large"


@pytest.mark.parametrize(
    "body", [[], {"items": "text"}, {"items": [{"text": "no id"}]}, {"items": [{"id": "a"}]}]
)
def test_malformed_bodies_are_400(api: Api, body: Any) -> None:
    error_of(scan(api(), body), 400)


def test_a_token_without_the_scope_is_refused(api: Api) -> None:
    error_of(scan(api(["match"]), {"items": [{"id": 1, "text": "x"}]}), 403)
    anonymous = Client()
    error_of(scan(anonymous, {"items": [{"id": 1, "text": "x"}]}), 401)


def test_nothing_of_the_text_is_stored(api: Api) -> None:
    before = AuditEntry.objects.count()
    scan(api(), {"items": [{"id": "s", "text": SPELLED}]})
    assert SPELLED not in json.dumps(list(AuditEntry.objects.values("detail")[before:]))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_gets_an_answer_with_spans_inside_it(api: Api, text: str) -> None:
    response = scan(api(), {"items": [{"id": "h", "text": text}]})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    for item in result["entities"] + result["indicators"]:
        start, end = item["span"]
        assert 0 <= start < end <= len(text)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"items": [{"id": "\\ud800x", "text": "Synthetic"}]}', "items[0].id"),
        ('{"items": [{"id": "a", "text": "Synthetic \\udfff 202 555 0142"}]}', "items[0].text"),
    ],
)
def test_a_lone_surrogate_is_a_named_400_not_a_crash(api: Api, body: str, field: str) -> None:
    response = api().post("/api/v1/text/scan", body, content_type="application/json")
    assert error_of(response, 400)["details"][0]["field"] == field
