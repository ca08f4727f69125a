"""The lead of every rich notification: what a phone shows before anyone opens it.

Three lines, in this order: what fired (alert, service, severity), the top hypothesis with
its confidence, and what is asked of the person (approve these actions, or why firstline
escalated); then the link to the incident's page in the console. Slack puts the lead in
its first blocks and in the push text, PagerDuty in the summary and first custom details.

The bound: a phone's notification preview shows about 40 characters a line (a 360 dp wide
Android screen, an iPhone's banner) and 4 to 5 lines before it cuts. The lead is clipped to
PHONE_LINES such lines in all: one for what fired, two each for the hypothesis and the ask.
The link is not counted: a preview cuts a URL anyway, and the whole message is its target.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from firstline.notify.base import Notification
from firstline.notify.content import IncidentDigest, incident_link

PHONE_WIDTH = 40
PHONE_LINES = 5
_FIRED_LINES, _HYPOTHESIS_LINES, _ASK_LINES = 1, 2, 2


@dataclass(frozen=True)
class Lead:
    fired: str
    hypothesis: str
    ask: str
    link: str | None

    @property
    def lines(self) -> list[str]:
        """The lead without the link."""
        return [self.fired, self.hypothesis, self.ask]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def one_line(self) -> str:
        """For a single-line field (PagerDuty's summary)."""
        return " · ".join(self.lines)


def fit(text: str, lines: int, width: int = PHONE_WIDTH) -> str:
    """`text` cut to what `lines` wrapped lines of `width` hold, with an ellipsis if cut."""
    text = " ".join(text.split())
    wrapped = textwrap.wrap(text, width)
    if len(wrapped) <= lines:
        return text
    kept = wrapped[:lines]
    kept[-1] = kept[-1][: width - 1].rstrip() + "…"
    return " ".join(kept)


def lead(notification: Notification, public_url: str | None) -> Lead:
    digest = notification.digest
    link = incident_link(public_url, notification.incident_id)
    if digest is None:  # a notification built without the structured facts
        first, *rest = notification.body.splitlines() or [""]
        return Lead(
            fired=fit(notification.title, _FIRED_LINES),
            hypothesis=fit(first, _HYPOTHESIS_LINES),
            ask=fit(" ".join(rest[:2]), _ASK_LINES),
            link=link,
        )
    service = digest.service or digest.where
    return Lead(
        # severity first: a long alert or service name is what gets cut, not it
        fired=fit(f"{notification.severity.upper()} · {digest.alert} on {service}", _FIRED_LINES),
        hypothesis=fit(_hypothesis(digest), _HYPOTHESIS_LINES),
        ask=fit(_ask(notification.kind, digest), _ASK_LINES),
        link=link,
    )


def _hypothesis(digest: IncidentDigest) -> str:
    if not digest.hypotheses:
        return "No known cause fits the evidence"
    top = digest.hypotheses[0]
    return f"Likely {top.pattern} ({top.confidence:.0%}): {top.cause}"


def _ask(kind: str, digest: IncidentDigest) -> str:
    """What the person is asked for, or told, by this event."""
    if kind == "approval_request" and digest.approval is not None:
        return "Approve? " + "; ".join(digest.approval.actions)
    if kind == "escalation":
        why = digest.conclusion.removeprefix("escalated: ") or digest.decision
        return "Escalated: " + (why or "a person is needed")
    said = digest.conclusion or digest.decision or digest.status
    return f"{kind.replace('_', ' ').capitalize()}: {said}"
