"""What a browser test holds: a Playwright page and a record of what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SCREENS", "Response", "Tab"]

SCREENS = Path("/tmp/haven-screens")


@dataclass
class Response:
    url: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Tab:
    """A page and what it has done so far."""

    page: Any  # playwright.sync_api.Page
    base_url: str
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    page_errors: list[str] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Any:
        return self.page.goto(self.url(path))

    def csp_violations(self) -> list[str]:
        return [
            text
            for _, text in self.console
            if "Content Security Policy" in text or "Content-Security-Policy" in text
        ]

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]

    def screenshot(self, name: str) -> Path:
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
