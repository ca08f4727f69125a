"""Block Kit for one incident: the message a channel sees, with approve/reject buttons
while an approval is open. Limits are Slack's documented ones; text is cut to fit.

The first blocks are the lead (notify/headline.py) that a phone shows: what fired in the
header, then the top hypothesis, what is asked and the console link; the approval and its
buttons next; the details below, for whoever opens the message."""

from __future__ import annotations

import json
from typing import Any

from firstline.notify.base import Notification
from firstline.notify.content import IncidentDigest
from firstline.notify.headline import Lead, lead

Block = dict[str, Any]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
MAX_BLOCKS = 50
BUTTON_VALUE_LIMIT = 2000
ACTION_ID_LIMIT = 255
APPROVE = "firstline_approve"
REJECT = "firstline_reject"
_ICON = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵"}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def action_id(verb: str, incident_id: str, round_: int) -> str:
    """`firstline_approve:<incident>:<round>`: the click names what it decides."""
    return clip(f"{verb}:{incident_id}:{round_}", ACTION_ID_LIMIT)


def _section(title: str, lines: list[str]) -> Block | None:
    if not lines:
        return None
    text = f"*{title}*\n" + "\n".join(lines)
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn text, so alert text cannot make links
    or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _lead_section(first: Lead) -> Block:
    lines = [escape(first.hypothesis), f"*{escape(first.ask)}*"]
    if first.link:
        lines.append(f"<{first.link}|Open in the firstline console>")
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), 3000)}}


def _fired(digest: IncidentDigest) -> str:
    since = f" since {digest.fired_at:%Y-%m-%d %H:%M} UTC" if digest.fired_at else ""
    line = f"`{digest.alert}` on `{digest.where}`{since}"
    return line + (f"\n> {digest.summary}" if digest.summary else "")


def _buttons(incident_id: str, round_: int) -> Block:
    def button(verb: str, label: str, style: str) -> dict[str, Any]:
        value = json.dumps({"incident_id": incident_id, "round": round_, "verb": verb})
        return {
            "type": "button",
            "text": {"type": "plain_text", "text": label},
            "style": style,
            "action_id": action_id(verb, incident_id, round_),
            "value": clip(value, BUTTON_VALUE_LIMIT),
        }

    return {
        "type": "actions",
        "block_id": clip(f"firstline_approval:{incident_id}:{round_}", 255),
        "elements": [
            button(APPROVE, "Approve", "primary"),
            button(REJECT, "Reject", "danger"),
        ],
    }


def incident_blocks(
    notification: Notification, public_url: str | None, with_buttons: bool
) -> list[Block]:
    """The lead, then the whole incident on one screen. Buttons only while the approval
    is open."""
    icon = _ICON.get(notification.severity, "⚪")
    first = lead(notification, public_url)
    blocks: list[Block | None] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(f"{icon} {first.fired}", HEADER_LIMIT)},
        },
        _lead_section(first),
    ]
    digest = notification.digest
    if digest is None:
        blocks.append(_section("Report", [f"```{clip(notification.body, 2900)}```"]))
    else:
        ask = digest.approval
        if ask is not None and with_buttons:
            dry_run = "\n".join(ask.dry_run) or "(no dry-run output)"
            blocks.append(
                _section(
                    f"Approval needed (round {ask.round})",
                    [
                        f"Expires {ask.expires_at:%Y-%m-%d %H:%M:%S} UTC. Exactly this will run:",
                        f"```{clip(dry_run, 2500)}```",
                    ],
                )
            )
            blocks.append(_buttons(notification.incident_id, ask.round))
        status = f"`{digest.status}`" + (f" — {digest.conclusion}" if digest.conclusion else "")
        blocks += [
            _section("What fired", [_fired(digest)]),
            _section("Status", [status]),
            _section(
                "Top hypotheses",
                [
                    f"• *{h.confidence:.0%}* `{h.pattern}`: {h.cause}"
                    + "".join(f"\n      {s}" for s in h.evidence[:3])
                    for h in digest.hypotheses
                ]
                or ["• none: no known pattern explains the evidence"],
            ),
            _section("Ruled out", [f"• {r}" for r in digest.ruled_out]),
            _section("Evidence", [f"• {e}" for e in digest.evidence]),
            _section("Tried", [f"• {t}" for t in digest.tried]),
            _section("Next steps", [f"• {s}" for s in digest.next_steps]),
        ]
    ref = f"<{first.link}|{notification.incident_id}>" if first.link else notification.incident_id
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"firstline · {ref}"}]}
    )
    kept = [b for b in blocks if b is not None]
    return kept[: MAX_BLOCKS - 1] + kept[-1:] if len(kept) > MAX_BLOCKS else kept


def update_text(notification: Notification) -> str:
    """The short thread reply for a later event."""
    digest = notification.digest
    detail = digest.conclusion if digest and digest.conclusion else ""
    if notification.kind == "acting" and digest is not None:
        detail = "; ".join(digest.approval.actions if digest.approval else []) or detail
    return clip(
        f"*{notification.kind}*: {notification.title}" + (f"\n{detail}" if detail else ""), 3000
    )
