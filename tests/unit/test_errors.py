"""Every error firstline raises for a caller is a FirstlineError of exactly one kind
(permanent, temporary, needs a person), and its HTTP status fits that kind.

The classes are found, not listed: every module of the package is imported and every
exception class defined in it (or anywhere below FirstlineError) is checked. Only the few
errors that never leave the module or package raising them are named, with where they end.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from functools import cache
from pathlib import Path

import pytest

import firstline
from firstline import errors
from firstline.errors import (
    KINDS,
    Busy,
    FirstlineError,
    NeedsPerson,
    PermanentError,
    TemporaryError,
)

SRC = Path(firstline.__file__).parent

# Caught where they are raised and turned into something else before any caller sees them.
INTERNAL = {
    "firstline.actions.kubernetes.errors.KubernetesActionError": "an action outcome (executor)",
    "firstline.actions.scripts.ScriptRefused": "a refused action's outcome (scripts.py)",
    "firstline.lab.cluster.kubelet.ConfigError": "a container's waiting reason (lab kubelet)",
    "firstline.lab.cluster.kubelet.ImageError": "a container's waiting reason (lab kubelet)",
    "firstline.reasoning.llm.output.OutputError": "sent back to the model, then a fallback",
    "firstline.reasoning.llm.usage.BudgetExceeded": "a fallback to the rules (calling.py)",
    "firstline.store.audit.DuplicateKey": "a finding of the chain check (audit.py)",
}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@cache
def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(firstline.__path__, "firstline."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # runs the CLI
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[_name(obj)] = obj
    pending: list[type[BaseException]] = [FirstlineError]
    while pending:  # also classes defined inside functions
        cls = pending.pop()
        if cls.__module__.startswith("firstline"):
            found.setdefault(_name(cls), cls)
        pending.extend(cls.__subclasses__())
    return found


def _for_callers() -> list[type[BaseException]]:
    return sorted(
        (
            cls
            for name, cls in _exception_classes().items()
            if name not in INTERNAL and not cls.__name__.startswith("_")
        ),
        key=_name,
    )


def _firstline_errors() -> list[type[FirstlineError]]:
    return [c for c in _for_callers() if issubclass(c, FirstlineError)]


def _kinds(cls: type[FirstlineError]) -> list[type[FirstlineError]]:
    return [kind for kind in KINDS if issubclass(cls, kind)]


@cache
def _source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))


def test_the_discovery_finds_the_errors_of_every_package() -> None:
    modules = {name.split(".")[1] for name in _exception_classes()}
    assert {"store", "intake", "graph", "policy", "scenarios", "sources", "service"} <= modules
    assert len(_for_callers()) > 30
    missing = set(INTERNAL) - set(_exception_classes())
    assert not missing, f"named as internal but gone (update INTERNAL): {missing}"


@pytest.mark.parametrize("cls", _for_callers(), ids=_name)
def test_every_error_meant_for_a_caller_is_a_firstline_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, FirstlineError), (
        f"{_name(cls)} reaches callers: derive it from the kind in firstline/errors.py"
        " (or, if it never leaves its module, name it in INTERNAL with where it ends)"
    )


@pytest.mark.parametrize("cls", _firstline_errors(), ids=_name)
def test_every_firstline_error_has_one_kind(cls: type[FirstlineError]) -> None:
    kinds = _kinds(cls)
    if cls.__module__ == errors.__name__ and not kinds:  # FirstlineError itself
        assert cls is FirstlineError
        return
    if not kinds:  # a family base (SourceError, DeliveryError): only its subclasses are raised
        subclasses = cls.__subclasses__()
        assert subclasses, f"{_name(cls)} has no kind"
        assert all(_kinds(s) for s in subclasses), f"a subclass of {_name(cls)} has no kind"
        constructed = re.search(rf"(?<!class )(?<![\w.]){cls.__name__}\(", _source_text())
        assert constructed is None, f"{cls.__name__} is raised itself: give it a kind"
        return
    assert len(kinds) == 1, f"{_name(cls)} is {[k.__name__ for k in kinds]}: pick one"


@pytest.mark.parametrize("cls", _firstline_errors(), ids=_name)
def test_the_status_fits_the_kind(cls: type[FirstlineError]) -> None:
    if issubclass(cls, PermanentError):
        assert 400 <= cls.status < 500, "a caller must change something: a 4xx"
    elif issubclass(cls, TemporaryError):
        assert cls.status == (429 if issubclass(cls, Busy) else 503)
    elif issubclass(cls, NeedsPerson):
        assert cls.status == 409
    else:
        assert cls.status == 500  # never raised itself (see above)


def _taking_a_message() -> list[type[FirstlineError]]:
    """Those built from a message (not UnknownIncident(incident_id), Problem(status, ...))."""
    taking = []
    for cls in _firstline_errors():
        own = next(c.__dict__["__init__"] for c in cls.__mro__ if "__init__" in c.__dict__)
        # BaseException's own takes (*args)
        if not inspect.isfunction(own) or list(inspect.signature(own).parameters)[1] == "message":
            taking.append(cls)
    return taking


@pytest.mark.parametrize("cls", _taking_a_message(), ids=_name)
def test_every_error_takes_a_one_line_message(cls: type[FirstlineError]) -> None:
    """What `except FirstlineError` in the CLI prints; also how yamlfile builds them."""
    exc = cls("the policy file p.yaml: kill_switch: not a boolean")
    assert str(exc) == "the policy file p.yaml: kill_switch: not a boolean"


def test_temporary_errors_say_when_to_retry_if_they_know() -> None:
    assert TemporaryError("down").retry_after is None
    assert TemporaryError("down", retry_after=3).retry_after == 3


def test_the_statuses_the_http_api_documents() -> None:
    """docs/api.md and docs/serve.md: what a caller gets for each failure it can cause."""
    from firstline.graph.approvals import AlreadyDecided, NotAllowed, NotAwaitingApproval
    from firstline.intake.errors import AlertParseError
    from firstline.notify.slack_interactions import SlackPayloadError, SlackRequestRejected
    from firstline.store.errors import StoreBusy, StoreUnavailable
    from firstline.store.incidents import UnknownIncident

    assert issubclass(UnknownIncident, errors.NotFound) and UnknownIncident.status == 404
    assert issubclass(NotAllowed, errors.NotAllowed) and NotAllowed.status == 403
    for conflict in (AlreadyDecided, NotAwaitingApproval):
        assert issubclass(conflict, errors.Conflict) and conflict.status == 409
    assert issubclass(AlertParseError, errors.InvalidInput) and AlertParseError.status == 422
    assert issubclass(StoreBusy, Busy) and StoreBusy.status == 429
    assert issubclass(StoreUnavailable, TemporaryError) and StoreUnavailable.status == 503
    assert SlackRequestRejected.status == 401 and SlackPayloadError.status == 400


def test_builtin_bases_that_code_catches_are_kept() -> None:
    """`except ValueError` / `except LookupError` around these still catches them."""
    from firstline.detection.series import SeriesError
    from firstline.intake.errors import AlertParseError
    from firstline.policy.schema import PolicyError
    from firstline.reasoning.llm.providers import ProviderConfigError
    from firstline.reporting.incident import NoSavedState
    from firstline.scenarios.loader import ScenarioError
    from firstline.store.incidents import UnknownIncident
    from firstline.wiring.serve import ServeConfigError
    from firstline.wiring.settings import SettingsError

    for cls in (
        AlertParseError, PolicyError, ScenarioError, SeriesError, ProviderConfigError,
        SettingsError, ServeConfigError, NoSavedState,
    ):  # fmt: skip
        assert issubclass(cls, ValueError), cls
    assert issubclass(UnknownIncident, LookupError)


# Bare builtin errors raised on purpose that never reach a caller as they are: caught a few
# lines up (the function's caller) and turned into a firstline error, an outcome or a
# finding; an OSError kind, which callers handle as such; or a guard against a bug.
BARE_BUILTINS_CAUGHT = {
    ("graph/recording.py", "context_of"): "a bug: a run started without its GraphContext",
    ("actions/kubernetes/plan.py", "int_parameter"): "the action's outcome (workloads.py)",
    ("detection/nab.py", "load_corpus"): "FileNotFoundError: an OSError (a missing folder)",
    ("detection/nezha.py", "load_cases"): "FileNotFoundError: an OSError (a missing folder)",
    ("knowledge/catalog.py", "_compile"): "inside validators: a CatalogError",
    ("policy/runbooks.py", "parse"): "inside validators (a matcher): a PolicyError",
    ("policy/runbooks.py", "_label_refs"): "inside validators (a placeholder): a PolicyError",
    ("policy/sections.py", "parse_duration"): "inside validators: a PolicyError",
    ("policy/sections.py", "_check_types"): "inside validators: a PolicyError",
    ("policy/sections.py", "_clock"): "inside validators: a PolicyError",
    ("service/bodies.py", "_refuse_constant"): "a 400 (decode_json)",
    ("service/workers.py", "_run"): "a failed attempt of the run (the worker pool)",
    ("sources/loki/logql.py", "matcher"): "label names are checked before queries are built",
    ("store/audit.py", "parse_canonical"): "a finding of the chain check",
}
_BUILTINS = {
    "Exception", "ValueError", "TypeError", "LookupError", "KeyError", "IndexError",
    "RuntimeError", "OSError", "FileNotFoundError",
}  # fmt: skip


def _bare_raises() -> list[tuple[str, str, int, str]]:
    """(file, function, line, exception) of every `raise <builtin>(...)` outside pydantic
    validators (pydantic turns those into a ValidationError that a firstline error wraps)."""
    found: list[tuple[str, str, int, str]] = []

    def visit(node: ast.AST, where: str, function: str, in_validator: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                decorators = " ".join(ast.unparse(d) for d in child.decorator_list)
                visit(child, where, child.name, in_validator or "validator" in decorators)
                continue
            if isinstance(child, ast.Raise) and child.exc is not None and not in_validator:
                raised = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                if ast.unparse(raised) in _BUILTINS:
                    found.append((where, function, child.lineno, ast.unparse(raised)))
            visit(child, where, function, in_validator)

    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if not where.startswith("cli/"):  # the CLI's own messages, for the CLI to print
            visit(ast.parse(path.read_text(encoding="utf-8")), where, "<module>", False)
    return found


def test_no_bare_builtin_error_is_raised_at_a_caller() -> None:
    """A CLI user or an HTTP client gets a FirstlineError; raise InvalidValue (also a
    ValueError) or the module's own error instead of a bare ValueError."""
    raises = _bare_raises()
    unexpected = [r for r in raises if (r[0], r[1]) not in BARE_BUILTINS_CAUGHT]
    assert not unexpected, unexpected
    gone = set(BARE_BUILTINS_CAUGHT) - {(r[0], r[1]) for r in raises}
    assert not gone, f"no longer raised there (remove from BARE_BUILTINS_CAUGHT): {gone}"
