"""The statement of reasons a provider gives an uploader (EU Digital Services Act, art. 17).

It says what was decided and on what ground, the facts it rests on, whether automated
means detected or decided it, and how to seek redress, in words a provider can show to
the uploader as they are. It names no bank entry, reviewer or hash: those would help
someone evade detection and are none of the uploader's business.
"""

from __future__ import annotations

from typing import Any

from haven.detection.models import Review, ScannedContent

__all__ = ["statement_of_reasons"]

_DECISION_TEXT = {
    "allow": "Your upload was published.",
    "hold": "Your upload is withheld while a person reviews it.",
    "block": "Your upload was removed and will not be published.",
}


def statement_of_reasons(content: ScannedContent) -> dict[str, Any]:
    review = Review.objects.filter(content=content).first()
    appeal = review.appeals.order_by("-filed_at").first() if review else None
    matched = bool(content.policy.get("acting_banks"))
    facts = []
    if matched:
        facts.append(
            "The upload matched a list of known child sexual abuse material kept for this "
            "purpose (it was compared by its digital fingerprint, not looked at)."
        )
    if review is not None and review.state == "confirmed":
        facts.append(
            f"A person reviewed the match and confirmed it on {review.decided_at:%Y-%m-%d}."
        )
    if review is not None and review.state == "false_positive":
        facts.append("A person reviewed the match and found that it was wrong.")
    if appeal is not None and appeal.state != "pending":
        facts.append(
            f"Your appeal was decided by a second reviewer: the decision was {appeal.state}."
        )
    automated = matched and (review is None or review.state == "pending")
    statement: dict[str, Any] = {
        "content_id": content.content_id,
        "decision": content.decision,
        "restored": content.restored_at is not None,
        "summary": _DECISION_TEXT.get(content.decision, ""),
        "ground": (
            "illegal content: child sexual abuse material, and the provider's terms of service"
            if content.decision != "allow"
            else ""
        ),
        "facts": facts,
        "automated_detection": matched,
        "automated_decision": automated,
        "decided_at": (
            review.decided_at if review and review.decided_at else content.scanned_at
        ).isoformat(),
        "redress": [
            "Appeal to the provider: a different person will review the decision.",
            "An out-of-court dispute settlement body certified under the Digital Services Act.",
            "The courts of your country.",
        ],
        "can_appeal": review is not None and review.state == "confirmed" and appeal is None,
    }
    if appeal is not None:
        statement["appeal"] = {"state": appeal.state, "filed_at": appeal.filed_at.isoformat()}
    return statement
