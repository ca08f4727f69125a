"""What the docs show as commands: fenced shell blocks, usage blocks and inline code.

Every command keeps the doc and line it came from, so a failure can say where to look.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = {"sh", "bash", "console", "shell"}
RUNNABLE = "<!-- runnable -->"
"""On the line before a shell block: test_runnable.py runs the block."""

_FENCE = re.compile(r"^```(\S*)")
_INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)")
_OPERATORS = {"|", "||", "&&", ";", "&", "(", ")", "|&"}
REDIRECTS = {">", ">>"}
PROGRAMS = ("firstline", ".venv/bin/firstline")


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def where(path: Path, line: int) -> str:
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}:{line}"


@dataclass(frozen=True)
class Block:
    """A fenced block: its language (`""` for a bare fence) and its lines, numbered."""

    doc: Path
    line: int  # of the opening fence
    language: str
    runnable: bool
    lines: tuple[tuple[int, str], ...]

    @property
    def where(self) -> str:
        return where(self.doc, self.line)


@dataclass(frozen=True)
class Command:
    """One simple command (a pipeline is several) and its words, a usage line's notation
    (`[--opt X]`, `a|b` alternatives) taken off."""

    doc: Path
    line: int
    words: tuple[str, ...]

    @property
    def where(self) -> str:
        return where(self.doc, self.line)

    @property
    def text(self) -> str:
        return " ".join(self.words)


def blocks(doc: Path) -> Iterator[Block]:
    lines = doc.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body: list[tuple[int, str]] = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append((index + 1, lines[index]))
            index += 1
        index += 1  # past the closing fence
        runnable = start > 0 and lines[start - 1].strip() == RUNNABLE
        yield Block(doc, start + 1, opening.group(1), runnable, tuple(body))


def shell_blocks() -> Iterator[Block]:
    for doc in doc_files():
        yield from (b for b in blocks(doc) if b.language in SHELL_LANGUAGES)


def logical_lines(block: Block) -> Iterator[tuple[int, str]]:
    """Commands as the shell reads them: joined across `\\` continuations and quotes left
    open, with the number of their first line; in a console block only the `$ ` lines (the
    rest is the output the doc shows)."""
    pending = ""
    first = 0
    for number, raw in block.lines:
        text = raw
        if not pending:
            if block.language == "console":
                if not raw.startswith("$ "):
                    continue
                text = raw[2:]
            first = number
        if text.rstrip().endswith("\\"):
            pending += text.rstrip()[:-1] + " "
            continue
        pending += text
        if _complete(pending):
            yield first, pending
            pending = ""
        else:
            pending += "\n"
    assert not pending, f"{block.where}: a quote is never closed"


def _complete(text: str) -> bool:
    try:
        _shell_words(text)
    except ValueError:  # "No closing quotation": the command goes on on the next line
        return False
    return True


def _shell_words(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _split_at_operators(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word in _OPERATORS:
            yield current
            current = []
        else:
            current.append(word)
    yield current


def shell_commands(block: Block) -> Iterator[Command]:
    """The simple commands of a shell block, those inside `$(...)` included."""
    for line, text in logical_lines(block):
        inner = _SUBSTITUTION.findall(text)
        for source in [_SUBSTITUTION.sub("SUBSTITUTED", text), *inner]:
            for words in _split_at_operators(_shell_words(source)):
                synopsis = _is_synopsis(words)
                for alternative in _alternatives(words):
                    if synopsis:  # `[--json]` names `--json`
                        alternative = [w.strip("[]") for w in alternative if w.strip("[].")]
                    yield Command(block.doc, line, tuple(alternative))


def _alternatives(words: list[str]) -> Iterator[list[str]]:
    """`firstline audit verify / audit show ID`: two commands of one program."""
    current: list[str] = []
    for word in words:
        if word == "/" and current:
            yield current
            current = words[:1]
        else:
            current.append(word)
    if current:
        yield current


def _is_synopsis(words: list[str]) -> bool:
    return any(w.startswith("[") or w.endswith("]") or w in {"/", "..."} for w in words)


def _synopsis_words(text: str) -> list[str]:
    """A usage line: brackets, braces and alternatives are notation, not shell."""
    spaced = re.sub(r"[\[\](){}]", " ", text)
    try:
        words = shlex.split(spaced, comments=True)
    except ValueError:  # an unbalanced quote in prose
        words = spaced.split()
    return [w for w in words if w not in {"|", "...", "…"}]


def usage_commands() -> Iterator[Command]:
    """`firstline ...` lines of bare blocks, and inline code that starts with `firstline `."""
    for doc in doc_files():
        for block in blocks(doc):
            if block.language:
                continue
            for number, text in block.lines:
                if text.split(" ", 1)[0] in PROGRAMS:
                    yield Command(doc, number, tuple(_synopsis_words(text)))
        for number, span in inline_code(doc):
            if span.split(" ", 1)[0] in PROGRAMS and " " in span:
                yield Command(doc, number, tuple(_synopsis_words(span)))


def prose_lines(doc: Path) -> list[str]:
    """The doc's lines with fenced blocks blanked, so line numbers stay right."""
    out: list[str] = []
    fenced = False
    for text in doc.read_text().splitlines():
        if text.startswith("```"):
            fenced = not fenced
            out.append("")
        else:
            out.append("" if fenced else text)
    return out


def inline_code(doc: Path) -> Iterator[tuple[int, str]]:
    for number, text in enumerate(prose_lines(doc), start=1):
        for span in _INLINE_CODE.findall(text):
            yield number, span


def anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives the doc's headings: lower case, punctuation dropped, spaces
    to hyphens, and `-1`, `-2`... after a repeated one."""
    seen: dict[str, int] = {}
    for text in prose_lines(doc):
        heading = re.match(r"^#+ (.+)$", text)
        if heading:
            anchor = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            seen[anchor] = seen.get(anchor, -1) + 1
            if seen[anchor]:
                seen[f"{anchor}-{seen[anchor]}"] = 0
    return set(seen)
