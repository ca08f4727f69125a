"""Every command the docs show exists as shown: its firstline command, subcommand and
options (asked of the real command tree), make targets, benchmark options, and the
repository paths and scenario bundles it names. A failure names the doc and the line."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.commands import (
    cli_root,
    command_paths,
    created_paths,
    missing_paths,
    program_and_arguments,
    program_problems,
    repository_path,
    resolve,
    subcommands,
)
from tests.docs.markdown import (
    PROGRAMS,
    ROOT,
    Block,
    Command,
    anchors,
    blocks,
    doc_files,
    inline_code,
    prose_lines,
    shell_blocks,
    shell_commands,
    usage_commands,
    where,
)

CLI_DOC = ROOT / "docs" / "cli.md"


def _block_problems(block: Block) -> list[str]:
    problems, created = [], set[Path]()
    for command in shell_commands(block):
        created.update(created_paths(command))
        found = program_problems(command) + missing_paths(command, created)
        problems += [f"{command.where}: {p} (in `{command.text}`)" for p in found]
    return problems


def _usage_problems(command: Command) -> list[str]:
    found = program_problems(command) + missing_paths(command, set())
    return [f"{command.where}: {p} (in `{command.text}`)" for p in found]


def _firstline_commands() -> list[Command]:
    shown = [c for b in shell_blocks() for c in shell_commands(b)] + list(usage_commands())
    return [c for c in shown if program_and_arguments(c.words)[0] in PROGRAMS]


def test_the_docs_show_many_firstline_commands() -> None:
    """Guards the extraction: a parser that found nothing would pass every other test."""
    shown = _firstline_commands()
    assert len(shown) > 80, len(shown)
    assert {c.doc.name for c in shown} >= {"README.md", "cli.md", "scenarios.md", "audit.md"}


def test_every_shell_command_in_the_docs_exists() -> None:
    problems = [p for block in shell_blocks() for p in _block_problems(block)]
    assert not problems, "\n".join(problems)


def test_every_usage_line_and_inline_command_exists() -> None:
    problems = [p for command in usage_commands() for p in _usage_problems(command)]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_has_drifted(tmp_path: Path) -> None:
    """The checker itself: each of these is a kind of drift the docs had or could have."""
    doc = tmp_path / "drifted.md"
    doc.write_text(
        "```sh\n"
        "firstline frobnicate\n"
        "firstline investigate scenarios/oom-kill-loop-checkout/alert.json --nope\n"
        "firstline audit replay\n"
        "firstline --data-dir d eval scenarios/deploy-regression-cart-latency\n"
        "make deploy-everything\n"
        "python benchmarks/tokens.py --no-such-flag\n"
        "firstline capture alert.json --out scenarios/new-one && firstline eval scenarios/new-one\n"
        "```\n"
    )
    [block] = blocks(doc)
    problems = [p.split(": ", 1)[1] for p in _block_problems(block)]
    assert problems == [
        "`firstline` has no command `frobnicate` (in `firstline frobnicate`)",
        "`firstline investigate` has no option `--nope` (in `firstline investigate"
        " scenarios/oom-kill-loop-checkout/alert.json --nope`)",
        "`firstline audit` has no command `replay` (in `firstline audit replay`)",
        "`scenarios/deploy-regression-cart-latency` does not exist (in `firstline --data-dir d"
        " eval scenarios/deploy-regression-cart-latency`)",
        "the Makefile has no target `deploy-everything` (in `make deploy-everything`)",
        "`benchmarks/tokens.py` has no option `--no-such-flag` (in `python benchmarks/tokens.py"
        " --no-such-flag`)",
    ]


def test_every_repository_path_in_inline_code_exists() -> None:
    """`src/firstline/graph/runner.py`, `scenarios/multi-alert-node-lost-ledger/`..."""
    problems, checked = [], 0
    for doc in doc_files():
        for number, span in inline_code(doc):
            if span.startswith("kubectl "):  # `deploy/NAME` is a kubectl resource
                continue
            for word in span.split():
                path = repository_path(word.rstrip(".,;:)"))
                checked += path is not None
                if path is not None and not path.exists():
                    problems.append(
                        f"{where(doc, number)}: `{path.relative_to(ROOT)}` does not exist"
                    )
    assert checked > 100, checked
    assert not problems, "\n".join(problems)


def test_every_link_in_the_docs_leads_somewhere() -> None:
    """Relative links name a file that exists and, after `#`, one of its headings."""
    problems, checked = [], 0
    for doc in doc_files():
        for number, text in enumerate(prose_lines(doc), start=1):
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"[a-z]+:", target):
                    continue  # https:, mailto:
                checked += 1
                path, _, anchor = target.partition("#")
                linked = (doc.parent / path).resolve() if path else doc
                if not linked.exists():
                    problems.append(f"{where(doc, number)}: `{target}`: no such file")
                elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                    problems.append(f"{where(doc, number)}: `{target}`: no such heading")
    assert checked > 150, checked
    assert not problems, "\n".join(problems)


# -- docs/cli.md lists every command ---------------------------------------------------------

_TABLE_ROW = re.compile(r"^\| \[`([^`]+)`\]\(#([^)]+)\) \|", re.M)


def test_cli_md_lists_every_command_in_its_table() -> None:
    text = CLI_DOC.read_text()
    listed = dict(_TABLE_ROW.findall(text))
    commands = set(subcommands(cli_root()))
    assert not commands - set(listed), (
        f"docs/cli.md: add {sorted(commands - set(listed))} to the command table"
    )
    assert not set(listed) - commands, f"docs/cli.md lists {sorted(set(listed) - commands)}"
    dangling = {name: a for name, a in listed.items() if a not in anchors(CLI_DOC)}
    assert not dangling, f"docs/cli.md: the table links to no heading: {dangling}"


def test_cli_md_shows_how_to_call_every_command() -> None:
    """Each command and subcommand has a usage line or example in cli.md."""
    shown = {
        resolve(program_and_arguments(c.words)[1])[0]
        for c in _firstline_commands()
        if c.doc == CLI_DOC
    }
    shown |= {path[:n] for path in shown for n in range(1, len(path))}  # a group, by its subs
    missing = [path for path in command_paths() if tuple(path.split()) not in shown]
    assert not missing, f"docs/cli.md shows no `firstline COMMAND` for: {missing}"


# -- bundles named in prose ------------------------------------------------------------------

_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+){2,}$")
_ABOUT_BUNDLES = re.compile(r"\b(bundles?|bundled|scenarios?)\b", re.I)


def _bundles() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/*/scenario.yaml")}


def _packages() -> set[str]:
    """Python packages are kebab-case too (pip checks those names)."""
    lock = (ROOT / "requirements.lock").read_text()
    return {line.split("==")[0].lower() for line in lock.splitlines() if "==" in line}


def _sections(doc: Path) -> list[list[tuple[int, str]]]:
    sections: list[list[tuple[int, str]]] = [[]]
    for number, text in enumerate(prose_lines(doc), start=1):
        if text.startswith("#"):
            sections.append([])
        sections[-1].append((number, text))
    return sections


def test_every_bundle_named_in_the_docs_exists() -> None:
    """A `kebab-case-name` in a section about bundles or scenarios is a bundle's folder."""
    known, problems = _bundles() | _packages(), []
    for doc in doc_files():
        for section in _sections(doc):
            if not _ABOUT_BUNDLES.search(" ".join(text for _, text in section)):
                continue
            for number, text in section:
                for span in re.findall(r"`([^`\s]+)`", text):
                    name = span.rstrip("/")
                    if _SLUG.match(name) and name not in known:
                        problems.append(f"{doc.relative_to(ROOT)}:{number}: no bundle `{name}`")
    assert not problems, "\n".join(problems)


# -- the README -----------------------------------------------------------------------------


def test_the_readme_sets_up_with_two_commands() -> None:
    first = next(b for b in blocks(ROOT / "README.md") if b.language)
    words = [c.words for c in shell_commands(first)]
    assert words == [("make", "demo"), ("make", "test")], words
