"""An incident turned into data once: what the terminal renderer, the HTTP API and the
reports read. The plain-text facts (why it escalated, next steps, the localization) come
from `firstline.graph.report`, the same functions the notifications are written with; the
postmortem draft (postmortem.py, follow_ups.py) is rendered by documents.py from the
Jinja2 templates in templates/ (docs/report.md)."""
