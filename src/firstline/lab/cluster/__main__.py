"""`python -m firstline.lab.cluster`: the lab's API server, controller and metrics."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

import aiohttp.web
from kmock import Server

from firstline.lab.cluster.api import LabApiServer
from firstline.lab.cluster.controller import Controller
from firstline.lab.cluster.kubelet import DEFAULT_IMAGE_COMMANDS
from firstline.lab.cluster.metrics import metrics_app
from firstline.lab.topology import HOST, NAMESPACE


def _image_command(text: str) -> tuple[str, str]:
    prefix, sep, command = text.partition("=")
    if not sep or not prefix or not command:
        raise argparse.ArgumentTypeError(f"expected PREFIX=COMMAND, got {text!r}")
    return prefix, command


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m firstline.lab.cluster")
    parser.add_argument("--api-port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--namespace", default=NAMESPACE)
    parser.add_argument(
        "--image-command",
        type=_image_command,
        action="append",
        default=[],
        metavar="PREFIX=COMMAND",
        help="images starting with PREFIX run COMMAND plus the rest of the image name",
    )
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between ticks")
    return parser.parse_args(argv)


async def serve(options: argparse.Namespace) -> None:
    commands = {**DEFAULT_IMAGE_COMMANDS, **dict(options.image_command)}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with LabApiServer() as api, Server(api, host=HOST, port=options.api_port):
        controller = Controller(api, options.state_dir, commands)
        api.declare(controller.find_log)
        api.objects["v1/namespaces", None, options.namespace] = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": options.namespace},
            "status": {"phase": "Active"},
        }
        runner = aiohttp.web.AppRunner(metrics_app(controller.snapshot), access_log=None)
        await runner.setup()
        await aiohttp.web.TCPSite(runner, HOST, options.metrics_port).start()
        try:
            await controller.run(stop, options.interval)
        finally:
            controller.shutdown()
            await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse(argv)))


if __name__ == "__main__":
    main()
