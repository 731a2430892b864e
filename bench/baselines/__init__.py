"""Baseline servers of the bench, each a small ASGI app run under the gateway's uvicorn
settings: a raw JSON endpoint, a hand-written asyncpg endpoint, a raw WebSocket broadcaster;
and the raw sqlite3 transfer loop, the SQLite counterpart of pgbench."""
