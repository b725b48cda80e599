"""The network picture's geometry: every node on the canvas, contacts joined to their ads."""

from __future__ import annotations

from typing import Any

from haven.ads.network import Picture, network_picture


def _link(a: int, b: int, kind: str, value: str = "") -> dict[str, Any]:
    return {"a": a, "b": b, "kind": kind, "value": value}


def _picture(**kwargs: Any) -> Picture:
    ads = {1: 90.0, 2: 50.0, 3: 10.0, 4: 20.0}
    links = [
        _link(1, 2, "phone", "+12025550142"),
        _link(2, 3, "phone", "+12025550142"),
        _link(3, 4, "template"),
    ]
    return network_picture(ads, links, **kwargs)


def test_contacts_become_squares_joined_to_the_ads_that_carry_them() -> None:
    picture = _picture()
    kinds = sorted(n.kind for n in picture.nodes)
    assert kinds == ["ad", "ad", "ad", "ad", "phone"]
    phone = next(n for n in picture.nodes if n.kind == "phone")
    joined = {
        e.b.ad_id if e.a is phone else e.a.ad_id for e in picture.edges if phone in (e.a, e.b)
    }
    assert joined == {1, 2, 3}
    template = [e for e in picture.edges if e.kind == "template"]
    assert [{e.a.ad_id, e.b.ad_id} for e in template] == [{3, 4}]
    bands = {n.ad_id: n.band for n in picture.nodes if n.kind == "ad"}
    assert bands == {1: "high", 2: "medium", 3: "low", 4: "low"}


def test_every_node_is_inside_the_canvas_and_the_layout_is_repeatable() -> None:
    first, second = _picture(), _picture()
    assert first == second
    for node in first.nodes:
        assert 0 <= node.x <= first.width and 0 <= node.y <= first.height


def test_a_large_cluster_keeps_the_best_linked_ads_and_says_how_many_are_left_out() -> None:
    picture = _picture(max_ads=2)
    shown = {n.ad_id for n in picture.nodes if n.kind == "ad"}
    assert shown == {2, 3}  # two links each; 1 and 4 have one
    assert (picture.ads_total, picture.ads_shown, picture.ads_left_out) == (4, 2, 2)
    assert all(e.a.key in {n.key for n in picture.nodes} for e in picture.edges)


def test_one_ad_alone_sits_in_the_middle() -> None:
    picture = network_picture({9: 5.0}, [])
    (node,) = picture.nodes
    assert (node.x, node.y) == (picture.width / 2, picture.height / 2)
