"""Database connections opened by a browser test's own code while Playwright runs.

Playwright's sync API runs an asyncio event loop in the test's thread. While that loop
runs, Django's connection handler (an asgiref ``Local``, thread-critical) sees a running
loop and keeps the connections of ORM calls made by the test body (creating records,
checking them after a click) in a per-context store, apart from the thread's own
connection that pytest-django manages. On PostgreSQL each such store opens a connection
that nobody closes, so at the end of the run the test database cannot be dropped
("database ... is being accessed by other users"). The browser fixtures call
:func:`close_playwright_connections` before leaving ``sync_playwright()``, while the loop
still runs and those connections are reachable.
"""

from __future__ import annotations


def close_playwright_connections() -> None:
    from django.db import connections

    connections.close_all()
