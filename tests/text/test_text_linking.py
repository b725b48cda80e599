"""link_ads: entity, photo and template links, their reasons, summaries and readings."""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx
import pytest

from haven.synth.ads import generate_ads
from haven.text.linking import (
    AdRecord,
    LinkConfig,
    Linking,
    LinkingError,
    UnionFind,
    link_ads,
    summarize_cluster,
)
from haven.text.minhash import shingle_sets
from haven.text.templates import tokenize

PDQ_A = "a" * 64
PDQ_B = "b" * 64
BOILER = (
    "Relaxing massage in town, gentle hands and a quiet warm room. Shower available, tea "
    "offered after every session. Soft music, warm towels and a clean calm room. Ideal "
    "after sport, travel or a stressful week at work. Swedish, deep tissue, hot stones."
)


def _ad(i: int, text: str = "", **kw: object) -> AdRecord:
    return AdRecord(id=f"ad-{i:03d}", text=text or f"unrelated text number {i} 🌹", **kw)  # type: ignore[arg-type]


def _cluster_ids(result: Linking) -> list[set[str]]:
    return [set(c.ad_ids) for c in result.clusters]


# ------------------------------------------------------------------------ union-find


@pytest.mark.parametrize("seed", range(6))
def test_union_find_matches_networkx_components(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(1, 300)
    edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randrange(0, 2 * n))]
    uf = UnionFind(n)
    for a, b in edges:
        uf.union(a, b)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    ours: dict[int, set[int]] = {}
    for node, root in enumerate(uf.labels()):
        ours.setdefault(root, set()).add(node)
    expected = sorted(sorted(c) for c in nx.connected_components(graph))
    assert sorted(sorted(c) for c in ours.values()) == expected
    assert all(uf.size[uf.find(x)] == len(ours[uf.find(x)]) for x in range(n))


# ----------------------------------------------------------------------------- links


def test_shared_phone_email_and_image_link_with_reasons() -> None:
    ads = [
        _ad(1, entities=(("phone", "+12025550142"),)),
        _ad(2, entities=(("phone", "+12025550142"), ("email", "ivy@example.com"))),
        _ad(3, entities=(("email", "ivy@example.com"),)),
        _ad(4, image_pdq=PDQ_A),
        _ad(5, image_pdq=PDQ_A.upper()),
        _ad(6, entities=(("price", "150 USD"), ("city", "Denver"))),  # never linkable
        _ad(7, entities=(("price", "150 USD"), ("city", "Denver"))),
    ]
    result = link_ads(ads, LinkConfig(use_text=False))
    assert _cluster_ids(result) == [{"ad-001", "ad-002", "ad-003"}, {"ad-004", "ad-005"}]
    reasons = [link.reason for c in result.clusters for link in c.links]
    assert "shared phone +12025550142" in reasons
    assert "shared e-mail ivy@example.com" in reasons
    assert any(r.startswith("same image (PDQ aaaaaaaaaaaa") for r in reasons)
    assert result.singletons == 2
    assert result.labels(["ad-006", "ad-001"]) == {"ad-006": "ad-006", "ad-001": "cluster-000001"}


def test_near_duplicate_text_links_and_verified_similarity_is_exact() -> None:
    ads = [
        _ad(i, BOILER + f" Ask for {name} today, {name} answers. Call 202 555 01{i:02d} 🌹")
        for i, name in enumerate(["Ivy", "Mia", "Zoe"])
    ]
    ads.append(_ad(9, "Vintage bicycle for sale, barely used, pick up only. 80 dollars."))
    result = link_ads(ads)
    assert _cluster_ids(result) == [{"ad-000", "ad-001", "ad-002"}]
    sets = shingle_sets([tokenize(a.text) for a in ads], 3)
    index = {a.id: i for i, a in enumerate(ads)}
    for link in result.clusters[0].links:
        assert link.kind == "template"
        assert link.similarity >= result.config.threshold
        assert link.similarity == pytest.approx(sets.jaccard(index[link.a], index[link.b]))
        assert link.reason == f"template {link.similarity:.2f} similar"
    template = result.clusters[0].summary.template
    assert template is not None and template.names == ("Ivy", "Mia", "Zoe")


def test_no_pair_below_threshold_survives_verification() -> None:
    rng = random.Random(5)
    words = BOILER.split()
    ads = []
    for i in range(120):  # shuffled boilerplate: a spread of similarities around 0.5
        w = words[:]
        for _ in range(rng.randrange(0, 12)):
            a, b = rng.randrange(len(w)), rng.randrange(len(w))
            w[a], w[b] = w[b], w[a]
        ads.append(_ad(i, " ".join(w)))
    config = LinkConfig(threshold=0.6)
    result = link_ads(ads, config)
    sets = shingle_sets([tokenize(a.text) for a in ads], 3)
    index = {a.id: i for i, a in enumerate(ads)}
    links = [link for c in result.clusters for link in c.links]
    assert links
    for link in links:
        assert sets.jaccard(index[link.a], index[link.b]) >= 0.6


def test_text_link_between_groups_with_different_contacts_needs_the_stricter_threshold() -> None:
    a = BOILER + " Ask for Ivy, she will answer. Ivy"
    b = BOILER.replace("Swedish", "Thai") + " Ask for Mia, call now, Mia waits. Mia"
    ads = [
        _ad(1, a, entities=(("phone", "+12025550142"),)),
        _ad(2, b, entities=(("phone", "+12025550177"),)),
    ]
    strict = link_ads(ads)
    sim = shingle_sets([tokenize(a), tokenize(b)], 3).jaccard(0, 1)
    assert 0.5 <= sim < 0.7
    assert strict.clusters == () and strict.held_back == 1
    loose = link_ads(ads, LinkConfig(contact_threshold=0.5))
    assert _cluster_ids(loose) == [{"ad-001", "ad-002"}]
    no_contacts = link_ads([_ad(1, a), _ad(2, b)])
    assert _cluster_ids(no_contacts) == [{"ad-001", "ad-002"}]


def test_common_values_are_flagged_and_very_common_ones_ignored() -> None:
    ads = [_ad(i, entities=(("phone", "+12025550100"),)) for i in range(5)]
    flagged = link_ads(ads, LinkConfig(use_text=False, common_value_ads=3))
    (cluster,) = flagged.clusters
    assert all(link.common for link in cluster.links)
    assert "possibly spam" in cluster.links[0].reason
    assert any("shared by very many ads" in r for r in cluster.summary.spam_reasons)
    ignored = link_ads(ads, LinkConfig(use_text=False, common_value_ads=3, max_value_ads=4))
    assert ignored.clusters == ()
    assert ignored.ignored_values == (("phone", "+12025550100", 5),)


def test_entity_objects_are_accepted() -> None:
    @dataclass(frozen=True)
    class Found:
        type: str
        normalized: str

    ad = AdRecord("x", "text", entities=(Found("Phone", "+12025550142"),))
    assert ad.entity_pairs == (("phone", "+12025550142"),)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": ""},
        {"image_pdq": "xyz"},
        {"posted_at": "yesterday"},
        {"score": float("nan")},
        {"entities": (("phone",),)},
    ],
)
def test_bad_records_raise(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"id": "ad", "text": "t"}
    base.update(kwargs)
    with pytest.raises(LinkingError):
        AdRecord(**base)  # type: ignore[arg-type]


def test_duplicate_ids_and_bad_config_raise() -> None:
    with pytest.raises(LinkingError):
        link_ads([_ad(1), _ad(1)])
    with pytest.raises(LinkingError):
        LinkConfig(bands=40, rows=5)
    with pytest.raises(LinkingError):
        LinkConfig(common_value_ads=10, max_value_ads=5)


# ------------------------------------------------------------------ summaries/reading


def _stamp(day: int, hour: int = 12) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00Z"


def test_many_cities_read_as_spam_with_both_readings_shown() -> None:
    cities = [f"City{i}" for i in range(12)]
    ads = [
        _ad(i, entities=(("phone", "+12025550142"),), city=c, posted_at=_stamp(1 + i % 5))
        for i, c in enumerate(cities)
    ]
    summary = summarize_cluster(ads)
    assert summary.reading == "spam-like"
    assert any("12 cities" in r for r in summary.spam_reasons)
    # the trafficking-like reading is still there for the reviewer
    assert any("same phone +12025550142 in 12 cities within 4 days" in r
               for r in summary.trafficking_reasons)  # fmt: skip


def test_many_phones_read_as_spam() -> None:
    ads = [
        _ad(i, entities=(("email", "x@example.com"), ("phone", f"+1202555{150 + 3 * i:04d}")))
        for i in range(6)
    ]
    summary = summarize_cluster(ads)
    assert len(summary.phones) == 6
    assert summary.reading == "spam-like"
    assert any("6 phones" in r for r in summary.spam_reasons)


def test_small_operation_reads_trafficking_like() -> None:
    names = ["Ivy", "Mia", "Zoe", "Ruby"]
    ads = [
        _ad(
            i,
            BOILER + f" Ask for {n} today, {n} waits.",
            entities=(("phone", f"+1202555014{i % 2}"),),
            city=["Denver", "Austin", "Reno"][i % 3],
            posted_at=_stamp(3 + i),
            image_pdq=PDQ_B,
            score=40.0 + 10 * i,
            indicator_ids=("youth", "trust") if i % 2 else ("trust",),
        )
        for i, n in enumerate(names)
    ]
    s = summarize_cluster(ads)
    assert s.reading == "trafficking-like"
    assert s.names == ("Ivy", "Mia", "Ruby", "Zoe")
    assert s.phones == ("+12025550140", "+12025550141")
    assert any(x.startswith("consecutive phone numbers: +12025550140/+12025550141")
               for x in s.signals)  # fmt: skip
    assert any("same template with 4 different names" in x for x in s.signals)
    assert any(x.startswith("same image in 4 ads across 3 cities") for x in s.signals)
    assert any("many_people" in x for x in s.trafficking_reasons)
    assert s.indicator_profile == (("trust", 4), ("youth", 2))
    assert (s.risk_max, s.risk_mean) == (70.0, 55.0)
    assert (s.first_posted, s.last_posted, s.span_days) == (
        "2026-03-03T12:00:00Z", "2026-03-06T12:00:00Z", 3.0,
    )  # fmt: skip
    assert s.cities == (("Denver", 2), ("Austin", 1), ("Reno", 1))


def test_quiet_pair_is_unclear_and_burst_is_a_signal() -> None:
    ads = [_ad(i, entities=(("handle", "kik:someone"),), posted_at=_stamp(1)) for i in range(2)]
    assert summarize_cluster(ads).reading == "unclear"
    burst = [_ad(i, posted_at=_stamp(2, i)) for i in range(12)]
    summary = summarize_cluster(burst, LinkConfig(burst_ads=10))
    assert "burst: 12 ads within 24 h" in summary.signals
    assert summary.reading == "unclear"  # a burst alone is neither reading


# ---------------------------------------------------------------- synthetic corpus


def _records(count: int, seed: int) -> tuple[list[AdRecord], list[str]]:
    ads = generate_ads(count, seed=seed)
    records = [
        AdRecord(
            a.id,
            a.text,
            tuple((e.type, e.normalized) for e in a.entities),
            a.city,
            a.posted_at,
            a.image_pdq,
            0.0,
            a.indicators,
        )
        for a in ads
    ]
    return records, [a.cluster or a.id for a in ads]


def _pairwise(truth: list[str], pred: list[str]) -> tuple[float, float]:
    from collections import Counter

    def pairs(labels: list[object]) -> int:
        return sum(v * (v - 1) // 2 for v in Counter(labels).values())

    tp = pairs(list(zip(truth, pred, strict=True)))
    return tp / max(pairs(list(pred)), 1), tp / max(pairs(list(truth)), 1)


def test_synthetic_corpus_clusters_are_precise() -> None:
    records, truth = _records(1500, seed=11)
    result = link_ads(records)
    labels = result.labels(r.id for r in records)
    precision, recall = _pairwise(truth, [labels[r.id] for r in records])
    # recall is held down by one spam cluster of short ads that rotates 9 phones and whose
    # per-ad noise (heights, times, reference numbers) keeps text similarity near 0.3
    assert precision >= 0.97 and recall >= 0.75
    assert {c.summary.reading for c in result.clusters} <= {"spam-like", "trafficking-like",
                                                             "unclear"}  # fmt: skip


def test_workers_do_not_change_the_result() -> None:
    records, _ = _records(4200, seed=12)  # above the size where a pool is used
    one = link_ads(records, LinkConfig(use_entities=False, use_images=False))
    two = link_ads(records, LinkConfig(use_entities=False, use_images=False, workers=2))
    assert _cluster_ids(one) == _cluster_ids(two)
    assert [c.links for c in one.clusters] == [c.links for c in two.clusters]
