"""Finds patterns: the built-in library plus any user directory, without a hand-kept list."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from firstline.domain.alert import Alert
from firstline.domain.query import MetricQuery
from firstline.errors import InvalidInput
from firstline.patterns import library
from firstline.patterns.base import Pattern


class PatternLoadError(InvalidInput):
    """A user pattern file could not be loaded; the message names the file."""


class PatternRegistry:
    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self._patterns: dict[str, Pattern] = {}
        for pattern in patterns:
            if pattern.id in self._patterns:
                raise PatternLoadError(f"two patterns share the id {pattern.id!r}")
            self._patterns[pattern.id] = pattern

    @classmethod
    def load(cls, user_dir: Path | None = None) -> PatternRegistry:
        patterns = list(_builtin_patterns())
        if user_dir is not None:
            patterns.extend(_user_patterns(user_dir))
        return cls(patterns)

    def __iter__(self) -> Iterator[Pattern]:
        return iter(self._patterns.values())

    def __len__(self) -> int:
        return len(self._patterns)

    def get(self, pattern_id: str) -> Pattern | None:
        return self._patterns.get(pattern_id)

    def ids(self) -> list[str]:
        return sorted(self._patterns)

    def candidates(self, alert: Alert, suggested: Iterable[str] = ()) -> list[Pattern]:
        """Every pattern: evidence decides, the alert only orders them. Those the alert
        points at (catalog suggestions, then name matches) come first, universal ones last."""
        first = [p for pid in suggested if (p := self._patterns.get(pid)) and not p.universal]
        named = [p for p in self if not p.universal and p.applies_to(alert) and p not in first]
        rest = [p for p in self if not p.universal and p not in first and p not in named]
        return first + named + rest + [p for p in self if p.universal]

    def suggested(self, alert: Alert, suggested: Iterable[str] = ()) -> list[Pattern]:
        """The patterns the alert points at, by the catalog and by their own names."""
        first = [p for pid in suggested if (p := self._patterns.get(pid)) and not p.universal]
        return first + [
            p for p in self if not p.universal and p.applies_to(alert) and p not in first
        ]

    def metric_queries(self, pattern_ids: Iterable[str]) -> list[MetricQuery]:
        seen: dict[str, MetricQuery] = {}
        for pattern_id in pattern_ids:
            pattern = self._patterns.get(pattern_id)
            for query in pattern.metrics if pattern else ():
                seen.setdefault(query.name, query)
        return list(seen.values())


def _pattern_from(module: ModuleType) -> Pattern | None:
    found = getattr(module, "PATTERN", None)
    return found if isinstance(found, Pattern) else None


def _builtin_patterns() -> Iterator[Pattern]:
    for info in sorted(pkgutil.iter_modules(library.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{library.__name__}.{info.name}")
        if (pattern := _pattern_from(module)) is not None:
            yield pattern


def _user_patterns(directory: Path) -> Iterator[Pattern]:
    if not directory.is_dir():
        raise PatternLoadError(f"pattern directory {directory} does not exist")
    for path in sorted(directory.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"firstline_user_patterns.{path.stem}", path)
        if spec is None or spec.loader is None:
            raise PatternLoadError(f"cannot load pattern file {path}")
        module = importlib.util.module_from_spec(spec)
        # Registered before it runs, as `import` does: dataclasses, pydantic models and
        # pickling look their module up in sys.modules while the file executes.
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # a user's file can fail in any way; name it and stop
            del sys.modules[spec.name]
            raise PatternLoadError(f"pattern file {path} failed to load: {exc}") from exc
        pattern = _pattern_from(module)
        if pattern is None:
            raise PatternLoadError(f"pattern file {path} defines no PATTERN instance")
        yield pattern
