"""The real server (``trialdesk serve``) survives the requests that crashed it (issue 15).

``GET /api/trials?text=stem&page=2147483648`` and ``/trials/?text=cirrhosis&page=2147483648``
aborted the whole process (a ~687 GB allocation in Tantivy's collector); other paging
values gave a 500 with a traceback. This test migrates a SQLite registry in ``tmp_path``,
imports the seed trials (so the Tantivy text index exists and is current), starts
``python -m trialdesk.cli serve`` on a free port, sends each request, checks the status and
content type of every answer, and then that the server still answers ``/trials/`` with 200.
The server is always stopped, and every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trialdesk

REPO = Path(__file__).resolve().parents[2]
SRC = Path(trialdesk.__file__).resolve().parents[1]

JSON = "application/json"
HTML = "text/html"
#: (path, expected status, expected content type)
ATTACKS = [
    ("/api/trials?text=stem&page=2147483648", 422, JSON),
    ("/trials/?text=cirrhosis&page=2147483648", 400, HTML),
    ("/api/trials?text=stem&page=99999999999999999999", 422, JSON),
    ("/trials/?text=cirrhosis&page=99999999999999999999", 400, HTML),
    ("/api/trials?page=99999999999999999999", 422, JSON),
    ("/trials/?page=99999999999999999999", 400, HTML),
    ("/api/trials?text=stem&page=" + "9" * 5000, 422, JSON),
    ("/api/trials?text=stem&page=-1", 422, JSON),
    ("/trials/?text=cirrhosis&page=-1", 400, HTML),
    ("/api/trials?text=stem&page=0", 422, JSON),
    ("/trials/?text=cirrhosis&page=0", 400, HTML),
    ("/api/trials?text=stem&page=abc", 422, JSON),
    ("/trials/?text=cirrhosis&page=abc", 400, HTML),
    ("/api/trials?text=stem&per_page=99999999999999999999", 422, JSON),
    ("/trials/?text=cirrhosis&per_page=99999999999999999999", 400, HTML),
    ("/api/trials?text=stem&per_page=2147483648", 422, JSON),
    ("/api/trials?text=stem&per_page=-3", 422, JSON),
    # The highest page accepted: an empty page, answered by the text index.
    ("/api/trials?text=stem&page=1000000&per_page=100", 200, JSON),
    ("/trials/?text=cirrhosis&page=1000000", 200, HTML),
    ("/api/trials?page=1000000&per_page=100", 200, JSON),
]
TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def _run(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trialdesk.cli", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"trialdesk {' '.join(args)}: {done.stderr[-3000:]}"


@pytest.fixture
def server(tmp_path):
    """(port, process, log path) of a running ``trialdesk serve`` over the seed trials."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # SQLite in tmp_path
    env.update(
        PYTHONPATH=os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]),
        TRIALDESK_HOME=str(tmp_path),
        TRIALDESK_VAR=str(tmp_path / "var"),
        TRIALDESK_SECRET_KEY=secrets.token_urlsafe(50),
        TRIALDESK_TEXT_INDEX="1",
        PYTHONUNBUFFERED="1",
    )
    _run(env, "migrate", "--quiet")
    _run(env, "registry", "import", str(REPO / "protocols"))
    assert (tmp_path / "var" / "trialdesk.sqlite3.text-index" / "meta.json").is_file()
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "trialdesk.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text()[-3000:]}"
            try:
                if _get(port, "/trials/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no answer: {log.read_text()[-3000:]}"
            time.sleep(0.2)
        yield port, process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_the_server_answers_every_crashing_request_and_keeps_serving(server):
    port, process, log = server
    for path, status, content_type in ATTACKS:
        got, got_type, body = _get(port, path)
        alive = process.poll() is None
        assert alive, f"{path[:80]} stopped the server: {log.read_text()[-3000:]}"
        assert (got, got_type.split(";")[0]) == (status, content_type), (path[:80], body[:500])
        assert b"Traceback" not in body
        if content_type == JSON:
            body = json.loads(body)
            if status == 422:
                assert body["detail"][0]["loc"][0] == "query"
            else:
                assert body["results"] == [] and body["total"] == 2
    status, content_type, html = _get(port, "/trials/")
    assert status == 200 and content_type.startswith(HTML)
    assert b"NCT05227846" in html and b"NCT05331872" in html
    status, _, body = _get(port, "/api/trials?text=stem")
    assert status == 200 and json.loads(body)["total"] == 2
    assert process.poll() is None
