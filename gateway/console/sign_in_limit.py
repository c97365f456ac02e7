"""The rate limit on failed console sign-ins, per client address, in the database.

Every process of a deployment counts the same failures (a guesser cannot spread its
tries over workers). After `MAX_FAILURES` failures within `WINDOW_SECONDS` from one
address, further sign-ins from it are refused, right keys included, until the window
has moved on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, func, insert, select

from gateway.db.engine import Database
from gateway.db.schema import console_sign_in_failures

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class SignInLimit:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def blocked(self, client: str) -> bool:
        since = self._clock() - WINDOW_SECONDS
        query = (
            select(func.count())
            .select_from(console_sign_in_failures)
            .where(console_sign_in_failures.c.client == client)
            .where(console_sign_in_failures.c.at >= since)
        )
        async with self._db.reader.connect() as conn:
            failures = int((await conn.execute(query)).scalar_one())
        return failures >= MAX_FAILURES

    async def failed(self, client: str) -> None:
        now = self._clock()
        async with self._db.writer.begin() as conn:
            await conn.execute(insert(console_sign_in_failures).values(client=client, at=now))
            # Old failures count for nothing: each new one clears them out.
            await conn.execute(
                delete(console_sign_in_failures).where(
                    console_sign_in_failures.c.at < now - WINDOW_SECONDS
                )
            )
