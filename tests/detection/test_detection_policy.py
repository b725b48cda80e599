"""The bank-policy verdict as plain data: each rule, then properties over random findings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from haven.detection.policy import Finding, Rule, decide, in_rollout


def _match(bank: int, status: str = "match", entry: int = 1) -> Finding:
    return Finding(bank, entry, status)


def test_no_findings_allow_and_default_rule_holds_for_review_and_report() -> None:
    assert decide([], {}, "c").decision == "allow"
    verdict = decide([_match(1)], {}, "c")
    assert (verdict.decision, verdict.review, verdict.report) == ("hold", True, True)
    assert verdict.acting == (1,)


def test_block_beats_hold_and_a_block_only_bank_needs_no_review() -> None:
    rules = {1: Rule(1, block=True, hold=False, report=False), 2: Rule(2)}
    assert decide([_match(1)], rules, "c").decision == "block"
    assert decide([_match(1)], rules, "c").review is False
    both = decide([_match(1), _match(2)], rules, "c")
    assert (both.decision, both.review, both.report) == ("block", True, True)


def test_notify_only_allows_and_notifies() -> None:
    rules = {1: Rule(1, hold=False, report=False, notify=True)}
    verdict = decide([_match(1)], rules, "c")
    assert (verdict.decision, verdict.notify, verdict.review) == ("allow", True, False)


def test_allow_lists_suppress_only_the_banks_whose_policy_names_them() -> None:
    # Allow-list 9 hit: the matcher marked every row suppressed.
    rows = [_match(1, "suppressed"), _match(2, "suppressed"), _match(9, "allow-list")]
    rules = {1: Rule(1, allow_lists=frozenset({8})), 2: Rule(2, allow_lists=frozenset({9}))}
    verdict = decide(rows, rules, "c")
    assert verdict.acting == (1,) and verdict.suppressed == (2,)
    assert verdict.decision == "hold"
    # A policy naming no allow-list is suppressed by any.
    assert decide(rows, {}, "c").decision == "allow"


def test_a_paused_bank_holds_but_never_blocks_or_notifies() -> None:
    rules = {1: Rule(1, block=True, notify=True, paused=True)}
    verdict = decide([_match(1)], rules, "c")
    assert (verdict.decision, verdict.notify, verdict.paused) == ("hold", False, (1,))
    assert verdict.report is True  # a report still waits for a person


def test_gradual_enable_is_stable_per_upload_and_near_its_share() -> None:
    keys = [f"content-{k}" for k in range(4000)]
    inside = [k for k in keys if in_rollout(k, 7, 25)]
    assert 0.22 < len(inside) / len(keys) < 0.28
    assert inside == [k for k in keys if in_rollout(k, 7, 25)]
    assert all(in_rollout(k, 7, 100) for k in keys[:50])
    assert not any(in_rollout(k, 7, 0) for k in keys[:50])
    rules = {7: Rule(7, enable_percent=25)}
    outside = next(k for k in keys if k not in inside)
    trial = decide([_match(7)], rules, outside)
    assert (trial.decision, trial.trial, trial.acting) == ("allow", (7,), ())
    assert decide([_match(7)], rules, inside[0]).decision == "hold"


_findings = st.lists(
    st.builds(
        Finding,
        bank_id=st.integers(1, 6),
        entry_id=st.integers(1, 50),
        status=st.sampled_from(["match", "suppressed", "allow-list"]),
    ),
    max_size=12,
)
_rules = st.dictionaries(
    st.integers(1, 6),
    st.builds(
        Rule,
        bank_id=st.just(0),
        block=st.booleans(),
        hold=st.booleans(),
        report=st.booleans(),
        notify=st.booleans(),
        allow_lists=st.frozensets(st.integers(1, 6), max_size=2),
        enable_percent=st.sampled_from([0, 50, 100]),
        paused=st.booleans(),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(_findings, _rules, st.text(max_size=12))
def test_the_verdict_against_a_brute_force_oracle(
    findings: list[Finding], raw_rules: dict[int, Rule], key: str
) -> None:
    rules = {
        b: Rule(b, **{f: getattr(r, f) for f in Rule.__slots__ if f != "bank_id"})
        for b, r in raw_rules.items()
    }
    verdict = decide(findings, rules, key)
    allow_hits = {f.bank_id for f in findings if f.status == "allow-list"}
    block = hold = False
    acting = []
    for bank in sorted({f.bank_id for f in findings if f.status != "allow-list"}):
        rule = rules.get(bank, Rule(bank))
        if (rule.allow_lists & allow_hits) if rule.allow_lists else allow_hits:
            assert bank in verdict.suppressed
            continue
        if not in_rollout(key, bank, rule.enable_percent):
            assert bank in verdict.trial
            continue
        acting.append(bank)
        block |= rule.block and not rule.paused
        hold |= rule.hold or (rule.paused and rule.block)
    assert list(verdict.acting) == acting
    assert verdict.decision == ("block" if block else "hold" if hold else "allow")
    assert verdict.review == hold
    assert not (verdict.report and not verdict.review)
