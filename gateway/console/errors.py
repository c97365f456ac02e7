"""What can stop a console request before its page is drawn (mapped to pages in
`gateway.console.failures`)."""

from __future__ import annotations


class ConsoleRefusal(Exception):
    """A request the console refuses, with its status and a stable reason word (the
    message key of the page that explains it)."""

    status = 403

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status


class NotSignedIn(ConsoleRefusal):
    """No live session: the browser is sent to the sign-in page."""

    status = 401
