"""The console in a real browser: Debian's Chromium driven by Playwright, against the real
app served over loopback HTTP (tests/services/inprocess_server.py), with incidents made by
real runs of scenario bundles (and, for the list, rows seeded as benchmarks/ does)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from firstline.service.context import ServiceContext

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[3] / "docs" / "images"
_SCRATCH = Path(tempfile.gettempdir()) / f"firstline-console-shots-{os.getpid()}"
DESKTOP = {"width": 1100, "height": 760}
PHONE = {"width": 390, "height": 760}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module, not per session: Playwright's sync API keeps an event loop running in
    this thread while it is open, and a later test's asyncio.run would fail beside it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"the console's browser tests drive Debian's Chromium at {CHROMIUM}, which is not"
            " installed: run `make apt-services` (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@dataclass
class Served:
    url: str
    ctx: ServiceContext


def new_page(browser: Browser, *, dark: bool = False, phone: bool = False) -> Page:
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        color_scheme="dark" if dark else "light",
        device_scale_factor=1,
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def sign_in(page: Page, url: str, token: str, then: str = "/") -> None:
    page.goto(f"{url}{then}")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}{then}")


def screenshot(page: Page, name: str) -> Path:
    """console-<name>.png: the viewport only, in 256 colours (small files). Into
    docs/images with FIRSTLINE_UPDATE_SCREENSHOTS=1 (how the docs' pictures are made), else
    beside the test's other output, so an ordinary run leaves the working tree clean."""
    from PIL import Image

    into = IMAGES if os.environ.get("FIRSTLINE_UPDATE_SCREENSHOTS") == "1" else _SCRATCH
    into.mkdir(parents=True, exist_ok=True)
    shot = Image.open(io.BytesIO(page.screenshot(animations="disabled")))
    viewport = page.viewport_size
    assert viewport is not None and shot.size == (viewport["width"], viewport["height"])
    path = into / f"console-{name}.png"
    shot.convert("RGB").quantize(colors=256).save(path, optimize=True)
    return path
