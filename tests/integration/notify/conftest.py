"""A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port, and helpers to run
`flask notify send-due` and read what it sent."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest


class Mailbox:
    """What the SMTP server received; `refuse` makes it answer 451 to every message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 4.3.0 Mailbox temporarily unavailable"
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def recipients(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)

    def subjects(self) -> list[str]:
        return [self.subject(m) for m in self.messages]

    @staticmethod
    def subject(message: EmailMessage) -> str:
        # The encoded words start on a folded line; the parser keeps its blank.
        return str(message["Subject"]).strip()

    def text(self, message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def html(self, message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    class FreePortController(Controller):  # type: ignore[misc]
        # Port 0: the OS picks a free port; read it back before the readiness probe.
        def _trigger_server(self) -> None:
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    box = Mailbox()
    controller = FreePortController(box, hostname="127.0.0.1", port=0)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (an SMTP server that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app_config(app_config: dict[str, Any], mailbox: Mailbox) -> dict[str, Any]:
    app_config.update(
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": mailbox.port,
            "SMTP_TIMEOUT": 5,
            "BASE_URL": "https://cchc.thanhhoa.test",
        }
    )
    return app_config


@pytest.fixture
def send_due(app: Any) -> Callable[..., Any]:
    """Run `flask notify send-due [--at …]`; returns the click result."""
    from webapp.extensions import db

    def run(at: datetime | None = None) -> Any:
        args = ["notify", "send-due"]
        if at is not None:
            args += ["--at", at.isoformat()]
        result = app.test_cli_runner().invoke(args=args)
        db.session.expire_all()
        return result

    return run
