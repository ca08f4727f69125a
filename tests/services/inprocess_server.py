"""The firstline app on a real loopback port, served from a thread of the test process.

Used where a test must hand the service something a child process cannot receive (an SNS
certificate stand-in, a replayed scenario world); requests still go over real HTTP.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from firstline.service.app import create_app
from firstline.service.context import ServiceContext
from firstline.wiring.serve import open_service
from firstline.wiring.settings import Settings
from tests.services.process import free_port


@contextmanager
def serve_in_thread(
    settings: Settings, **service_args: Any
) -> Iterator[tuple[str, ServiceContext]]:
    port = free_port()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        async with open_service(settings, **service_args) as ctx:
            config = uvicorn.Config(
                create_app(ctx), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
            )
            server = uvicorn.Server(config)
            holder["server"], holder["ctx"] = server, ctx
            task = asyncio.create_task(server.serve())
            # uvicorn offers no 'started' event to wait on, only this flag
            while not server.started and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            ready.set()
            await task

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the test below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(60) or "error" in holder:
        raise RuntimeError(f"in-process server did not start: {holder.get('error')}")
    try:
        yield f"http://127.0.0.1:{port}", holder["ctx"]
    finally:
        holder["server"].should_exit = True
        deadline = time.monotonic() + 15
        thread.join(timeout=max(0.1, deadline - time.monotonic()))


def settings_for(data_dir: Path, **serve: Any) -> Settings:
    from pydantic import SecretStr

    from firstline.service.settings import ServeSettings, WebhookAuth
    from tests.services.firstline_server import PRINCIPALS, READ_ONLY_TOKEN, WEBHOOK_TOKEN

    return Settings(
        store={"data_dir": data_dir},
        graph={"verify_wait_seconds": 0},
        serve=ServeSettings(
            auth=WebhookAuth(bearer_tokens=[SecretStr(WEBHOOK_TOKEN)]),
            api_principals={name: SecretStr(token) for name, token in PRINCIPALS.items()},
            api_tokens=[SecretStr(READ_ONLY_TOKEN)],
            **serve,
        ),
    )


def settings_with_approvers(tmp_path: Path, *principals: str, **serve: Any) -> Settings:
    """settings_for(tmp_path / "data"), with a policy whose approvers are these principals
    for every severity."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"approvers:\n  - principals: [{', '.join(principals)}]\n"
        "    severities: [critical, high, medium, low]\n"
    )
    return settings_for(tmp_path / "data", **serve).model_copy(update={"policy_file": policy})
