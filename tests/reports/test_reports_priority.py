"""The triage priority: every factor counts as the table says, escalation always comes first,
and the score is bounded, monotone and explained by exactly the factors present."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.reports.reports_helpers import report_doc

from haven.reports.format import parse_report
from haven.reports.priority import (
    FACTORS,
    SLA_HOURS,
    TIERS,
    WEIGHTS,
    Context,
    TriageFacts,
    facts_of,
    priority_of,
)

facts_strategy = st.builds(TriageFacts, **{name: st.booleans() for name in FACTORS})


def only(factor: str) -> TriageFacts:
    return TriageFacts(**{factor: True})


def file_doc(file_id: str = "f-1", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "file_id": file_id,
        "name": f"{file_id}.png",
        "md5": "0" * 31 + str(len(file_id) % 10),
        "viewed_by_provider": False,
        "exif_viewed_by_provider": False,
        "relevance": "reported",
    }
    doc.update(changes)
    return doc


def test_no_factor_is_score_zero_tier_low() -> None:
    priority = priority_of(TriageFacts())
    assert (priority.score, priority.tier, priority.reasons) == (0, "low", ())
    assert priority.sla_hours == SLA_HOURS["low"] == 168


@pytest.mark.parametrize("factor", FACTORS)
def test_each_factor_alone_scores_its_weight_and_says_why(factor: str) -> None:
    priority = priority_of(only(factor))
    weight, why = WEIGHTS[factor]
    assert priority.score == weight > 0
    assert [(r.factor, r.weight, r.why) for r in priority.reasons] == [(factor, weight, why)]


@pytest.mark.parametrize("factor", FACTORS)
def test_each_factor_raises_a_mixed_report_by_its_weight(factor: str) -> None:
    base = TriageFacts(suspect_identified=True, new_material=True)
    if getattr(base, factor):
        base = replace(base, **{factor: False})
    before, after = priority_of(base).score, priority_of(base.join(only(factor))).score
    assert after - before == WEIGHTS[factor][0]


def test_the_documented_tiers_and_sla() -> None:
    # 15 + 15 + 15 + 10 = 55: high; 10 + 10 = 20: normal; 10: low; 20 + 15*3 + 10*3 → 100.
    high = TriageFacts(
        prepubescent=True,
        trafficking_or_enticement=True,
        victim_identified=True,
        suspect_identified=True,
    )
    assert (priority_of(high).score, priority_of(high).tier, priority_of(high).sla_hours) == (
        55,
        "high",
        24,
    )
    normal = TriageFacts(new_material=True, repeat_offender=True)
    assert (priority_of(normal).tier, priority_of(normal).sla_hours) == ("normal", 72)
    assert priority_of(only("new_material")).tier == "low"
    everything_but = TriageFacts(**{f: f != "escalated" for f in FACTORS})
    top = priority_of(everything_but)
    assert top.score == 95 and top.tier == "immediate" and top.sla_hours == 1
    assert priority_of(TriageFacts(**dict.fromkeys(FACTORS, True))).score == 100


@given(facts_strategy)
def test_escalation_is_always_immediate_within_one_hour(facts: TriageFacts) -> None:
    priority = priority_of(replace(facts, escalated=True))
    assert priority.tier == "immediate" and priority.sla_hours == 1
    assert priority.reasons[0].factor == "escalated"


@given(facts_strategy, facts_strategy)
def test_score_is_bounded_monotone_and_explained(a: TriageFacts, b: TriageFacts) -> None:
    pa, pab = priority_of(a), priority_of(a.join(b))
    assert 0 <= pa.score <= 100 and 0 <= pab.score <= 100
    assert pab.score >= pa.score  # adding factors never lowers the score ...
    assert TIERS.index(pab.tier) <= TIERS.index(pa.tier)  # ... nor the tier
    assert pab.sla_hours <= pa.sla_hours
    assert tuple(r.factor for r in pa.reasons) == a.present()
    assert {r.factor for r in pa.reasons} == {f for f in FACTORS if getattr(a, f)}
    uncapped = sum(WEIGHTS[f][0] for f in a.present())
    assert pa.score == min(100, uncapped)


@given(facts_strategy)
def test_facts_survive_storage(facts: TriageFacts) -> None:
    assert TriageFacts.from_dict(facts.as_dict()) == facts
    assert TriageFacts.from_dict({}) == TriageFacts()


# --- facts_of ----------------------------------------------------------------------------


def test_a_plain_ad_report_is_trafficking_only() -> None:
    facts = facts_of(parse_report(report_doc()))
    assert facts.present() == ("trafficking_or_enticement",)


def test_each_fact_is_read_from_the_report() -> None:
    doc = report_doc(
        incident={
            "type": "child_sexual_abuse_material",
            "occurred_at": "2026-11-30T22:15:00+00:00",
            "escalation": {"reason": "synthetic: imminent danger"},
        },
        files=[
            file_doc("f-1", classification="A2"),
            file_doc("f-22", annotations=["live_streaming"]),
        ],
        victims=[{"estimated_age": 9}],
        reported_accounts=[{"screen_names": ["synthetic_user"]}],
    )
    facts = facts_of(parse_report(doc), Context(repeat_offender=True))
    assert facts == TriageFacts(
        escalated=True,
        live_streaming=True,
        prepubescent=True,
        trafficking_or_enticement=False,
        victim_identified=True,
        suspect_identified=True,
        new_material=True,
        repeat_offender=True,
    )


def test_infant_annotation_counts_as_prepubescent_and_b_does_not() -> None:
    infant = parse_report(report_doc(files=[file_doc(annotations=["infant"])]))
    pubescent = parse_report(report_doc(files=[file_doc(classification="B1")]))
    assert facts_of(infant).prepubescent and not facts_of(pubescent).prepubescent


def test_enticement_counts_and_other_types_do_not() -> None:
    def of(kind: str) -> bool:
        incident = {"type": kind, "occurred_at": "2026-11-30T22:15:00+00:00"}
        return facts_of(parse_report(report_doc(incident=incident))).trafficking_or_enticement

    assert of("online_enticement") and of("child_sex_trafficking")
    assert not of("child_sexual_abuse_material") and not of("misleading_domain_name")


def test_material_is_new_only_while_some_file_matches_no_bank() -> None:
    report = parse_report(
        report_doc(files=[file_doc("f-1"), file_doc("f-22", md5=None, sha256="ab" * 32)])
    )
    first, second = report.files
    assert facts_of(report).new_material
    one = Context(banked=frozenset({f"md5:{first.md5}"}))
    assert facts_of(report, one).new_material  # the SHA-256 file is still unknown
    both = Context(banked=frozenset({f"md5:{first.md5}", f"sha256:{second.sha256}"}))
    assert not facts_of(report, both).new_material
    assert not facts_of(parse_report(report_doc())).new_material  # no file at all
