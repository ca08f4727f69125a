"""The log-signature library: the YAML of known error wordings, validated and compiled once.

Matching must stay cheap on 10,000 lines, and running ~200 regexes over every line would not
be. So each signature names a few `keywords`, whole words of which at least one appears in
any line it can match; a line is split into words once, and only the signatures keyed by
one of its words run their regexes. Healthy lines (`GET /healthz 200`) share no word with
the library and cost one tokenisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from firstline.errors import InvalidInput
from firstline.support.yamlfile import load_yaml_mapping

DEFAULT_PATH = Path(__file__).with_name("log_signatures.yaml")

# The families patterns may rely on. A YAML family outside this set is a typo or an
# undocumented contract, so the loader refuses it rather than emitting a signal nobody reads.
FAMILIES = frozenset(
    {
        "cert_expired",
        "cert_untrusted",
        "tls_handshake_failed",
        "dns_failure",
        "connection_refused",
        "connection_reset",
        "upstream_timeout",
        "upstream_unavailable",
        "pool_exhausted",
        "db_connection_limit",
        "oom",
        "missing_config",
        "missing_file",
        "permission_denied",
        "disk_full",
        "read_only_fs",
        "crash",
        "db_replication",
        "db_deadlock",
        "rate_limited",
    }
)

# Attribute names the signal builder sets itself; a regex group must not overwrite them.
RESERVED_GROUPS = frozenset({"signature", "signatures", "example", "weak"})
# Long lines (JSON with stack traces) are matched on their start, bounding regex cost.
MAX_MATCH_CHARS = 8192

_KEYWORD = re.compile(r"^[a-z0-9]+$")
# Splitting into words by a byte table (letters and digits kept, lowercased; all else a
# space) is several times faster than a regex findall, and the split is per line.
_WORDS_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256)
)


def words(line: str) -> list[bytes]:
    """The line's runs of ASCII letters and digits, lowercased."""
    return line.encode("utf-8", "replace").translate(_WORDS_TABLE).split()


Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class LogSignatureError(InvalidInput):
    """The signature file is unreadable or invalid; the message names the file and the spot."""


class SignatureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    meaning: str = Field(min_length=1, description="One line a report can cite.")
    keywords: list[str] = Field(min_length=1, description="Whole lowercase words; prefilter.")
    patterns: list[str] = Field(min_length=1, description="Case-insensitive regexes.")

    @field_validator("keywords")
    @classmethod
    def _words(cls, keywords: list[str]) -> list[str]:
        bad = [k for k in keywords if not _KEYWORD.match(k)]
        if bad:
            raise ValueError(f"keywords must be lowercase letters and digits only: {bad}")
        return keywords

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"regex {pattern!r} does not compile: {exc}") from exc
            if reserved := RESERVED_GROUPS & set(compiled.groupindex):
                raise ValueError(f"regex {pattern!r} uses reserved group names {reserved}")
        return patterns

    @model_validator(mode="after")
    def _keywords_cover_patterns(self) -> SignatureSpec:
        # Catches the likeliest slip: a regex added without the word that lets it run.
        for pattern in self.patterns:
            if not any(k in pattern.lower() for k in self.keywords):
                raise ValueError(f"regex {pattern!r} contains none of the keywords")
        return self


class FamilySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    meaning: str = Field(min_length=1)
    weak: bool = Field(default=False, description="Generic symptom, never a cause alone.")
    supersedes: list[str] = Field(
        default_factory=list,
        description="Families a line loses when it also matches this one: the more "
        "specific reading wins (a DNS lookup timeout is not an upstream timeout).",
    )
    signatures: list[SignatureSpec] = Field(min_length=1)


class LibrarySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    families: dict[str, FamilySpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> LibrarySpec:
        if unknown := sorted(set(self.families) - FAMILIES):
            raise ValueError(f"unknown families {unknown}; known: {sorted(FAMILIES)}")
        ids = [s.id for f in self.families.values() for s in f.signatures]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"signature ids used twice: {dupes}")
        for name, family in self.families.items():
            if bad := sorted(set(family.supersedes) - FAMILIES):
                raise ValueError(f"{name} supersedes unknown families {bad}")
            if name in family.supersedes:
                raise ValueError(f"{name} supersedes itself")
            for other in family.supersedes:
                # Transitive, so that which family matched first never changes the outcome.
                implied = set(self.families[other].supersedes) if other in self.families else set()
                if missing := sorted(implied - set(family.supersedes)):
                    raise ValueError(
                        f"{name} supersedes {other}, which supersedes {missing}: "
                        f"list them under {name} too"
                    )
        return self


@dataclass(frozen=True, slots=True)
class Signature:
    id: str
    family: str
    meaning: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class Match:
    signature: Signature
    groups: dict[str, str] = field(default_factory=dict)


class Library:
    """The compiled signatures, in file order, with the word index that prefilters them."""

    def __init__(self, spec: LibrarySpec) -> None:
        self.families = frozenset(spec.families)
        self.weak = frozenset(n for n, f in spec.families.items() if f.weak)
        self.meaning = {n: f.meaning for n, f in spec.families.items()}
        self._supersedes = {n: frozenset(f.supersedes) for n, f in spec.families.items()}
        self.signatures: tuple[Signature, ...] = tuple(
            Signature(
                s.id, name, s.meaning, tuple(re.compile(p, re.IGNORECASE) for p in s.patterns)
            )
            for name, family in spec.families.items()
            for s in family.signatures
        )
        index: dict[bytes, set[int]] = {}
        for number, sig_spec in enumerate(s for f in spec.families.values() for s in f.signatures):
            for keyword in sig_spec.keywords:
                index.setdefault(keyword.encode(), set()).add(number)
        self._index = {k: tuple(sorted(v)) for k, v in index.items()}
        self._keywords = frozenset(self._index)

    def match(self, line: str, *, prefilter: bool = True) -> list[Match]:
        """At most one match per family (its first signature in file order that matches),
        without the families a more specific match supersedes. `prefilter=False` tries every
        signature: the reference the word index is tested against."""
        text = line[:MAX_MATCH_CHARS]
        if prefilter:
            hits = self._keywords.intersection(words(text))
            if not hits:
                return []
            candidates = sorted({n for w in hits for n in self._index[w]})
        else:
            candidates = list(range(len(self.signatures)))
        found: dict[str, Match] = {}
        beaten: set[str] = set()
        for number in candidates:
            signature = self.signatures[number]
            # A beaten family is not tried: its result would be dropped, and since
            # `supersedes` is transitive (checked on load) it would beat nothing new.
            if signature.family in found or signature.family in beaten:
                continue
            for pattern in signature.patterns:
                if hit := pattern.search(text):
                    groups = {k: t for k, v in hit.groupdict().items() if v and (t := _tidy(v))}
                    found[signature.family] = Match(signature, groups)
                    beaten |= self._supersedes[signature.family]
                    break
        return [m for family, m in found.items() if family not in beaten]


def _tidy(value: str) -> str:
    """A group without the quoting its log format wrapped around it: logfmt and JSON escape
    inner quotes, and a reason that runs to the end of such a line (or of a parenthesis)
    picks up the closing `"` or `)`. Only an unbalanced closer is dropped."""
    value = value.replace('\\"', '"').strip()
    while value and (
        value[-1] in "\\,;"
        or value[-1].isspace()
        or (value[-1] in "\"'" and value.count(value[-1]) % 2 == 1)
        or (value[-1] == ")" and value.count(")") > value.count("("))
    ):
        value = value[:-1]
    return value


def load_library(path: Path) -> Library:
    """The library in `path`, validated; LogSignatureError naming the file otherwise."""
    raw = load_yaml_mapping(path, LogSignatureError, "log signature file")
    try:
        spec = LibrarySpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: {e['msg']}" for e in exc.errors()
        )
        raise LogSignatureError(f"log signature file {path}: {problems}") from exc
    return Library(spec)


@cache
def default_library() -> Library:
    """The bundled library, compiled once per process."""
    return load_library(DEFAULT_PATH)
