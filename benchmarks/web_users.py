"""The simulated users of ``benchmarks/web.py``: httpx clients in threads, one per user.

Each user logs in through the real login form (CSRF token from the page), warms up with a
few page views (a fresh gunicorn worker's first staff page loads the protocol and the unit
registry: seconds, once per process), then repeats
actions until the phase's deadline (and at most ``MAX_ACTIONS`` times), waiting a random
think time (exponential, mean ``think`` seconds, capped at five means) between actions.
Every request is timed from sending to the last byte of the body.

Roles (a cycle of ten, so a few users already mix them):

- coordinator / investigator (both sites): the dashboards, participant pages, visit pages,
  participant history; answers an open data query (GET the query page, POST the answer form);
- monitor (both sites): opens a data query on a participant (GET the form, POST it, follow the
  redirect to the participant page, where the new query's link gives its id), closes an
  answered one, and reads the same pages;
- Vinmec coordinator (Vinmec only): Vinmec's pages, and now and then a Beijing participant,
  which must answer 404 (site scoping under load);
- public visitor (not logged in): the home page, registry search, the two listings and the
  prescreener.

The server runs the production settings behind no proxy, so each request carries what the
TLS-terminating proxy would add (``X-Forwarded-Proto: https``) and the ``Origin`` a browser
sends; the session and CSRF cookies are ``Secure``, so the user keeps them itself.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import httpx

MAX_ACTIONS = 100_000
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUERY_LINK = re.compile(r"/conduct/participants/(\d+)/queries/(\d+)/")
ERROR_LIST = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
ROLE_CYCLE = ("coordinator", "monitor", "public", "vinmec", "coordinator",
              "investigator", "monitor", "coordinator", "public", "coordinator")  # fmt: skip
LOGIN_OF = {
    "coordinator": "demo-coordinator",
    "investigator": "demo-investigator",
    "monitor": "demo-monitor",
    "vinmec": "demo-vinmec-coordinator",
}
PUBLIC_PAGES = ("/", "/trials/?q=cirrhosis", "/trials/?q=mesenchymal+stem+cells&status=RECRUITING",
                "/trials/NCT05227846/", "/trials/NCT05331872/", "/trials/NCT05227846/check/")  # fmt: skip


class Stats:
    """Samples (phase, kind, milliseconds, ok), error details and successful writes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[tuple[str, str, float, bool]] = []
        self.errors: list[str] = []
        self.writes = {"open": 0, "answer": 0, "close": 0}

    def add(self, phase: str, kind: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.samples.append((phase, kind, ms, error is None))
            if error is not None:
                self.errors.append(f"{phase}/{kind}: {error}")


@dataclass
class Board:
    """Data queries in flight, shared by monitors and site staff; ``expected`` is the status
    each query of this run must have in the database afterwards (its last successful post)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    known: set[int] = field(default_factory=set)
    open: list[tuple[int, int]] = field(default_factory=list)  # (participant pk, query id)
    answered: list[tuple[int, int]] = field(default_factory=list)
    expected: dict[int, str] = field(default_factory=dict)

    def take(self, pool: list, rng: random.Random):
        with self.lock:
            return pool.pop(rng.randrange(len(pool))) if pool else None

    def put(self, pool: list, item: tuple[int, int], status: str) -> None:
        with self.lock:
            pool.append(item)
            self.expected[item[1]] = status


class User:
    def __init__(self, n: int, role: str, base_url: str, stats: Stats, board: Board, site: dict):
        self.n, self.role, self.stats, self.board, self.site = n, role, stats, board, site
        self.rng = random.Random(1000 + n)
        self.phase = "login"
        self.cookies: dict[str, str] = {}
        origin = "https://" + base_url.split("://", 1)[1]
        self.client = httpx.Client(
            base_url=base_url,
            headers={"X-Forwarded-Proto": "https", "Origin": origin, "Referer": origin + "/"},
            timeout=30.0,
            follow_redirects=False,
        )
        mine = [p for p in site["participants"] if role != "vinmec" or p["site"] == "VINMEC"]
        self.participants = mine
        self.studies = sorted({p["nct_id"] for p in mine})
        self.foreign = [p for p in site["participants"] if p["site"] != "VINMEC"]

    # ------------------------------------------------------------------ requests

    def request(self, kind: str, method: str, url: str, expect: int, data=None):
        """One timed request; a status other than ``expect`` is an error (kept with its
        form errors, if any). Returns the response, or None after a transport error."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        started = time.perf_counter()
        try:
            r = self.client.request(method, url, data=data, headers=headers)
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - started) * 1000
            self.stats.add(self.phase, kind, ms, f"{method} {url}: {type(exc).__name__} {exc}")
            return None
        ms = (time.perf_counter() - started) * 1000
        self._keep_cookies(r)
        error = None
        if r.status_code != expect:
            found = ERROR_LIST.findall(r.text) if r.status_code == 200 else []
            detail = " ".join(re.sub(r"<[^>]+>", " ", f).split() for f in found)[:200]
            error = f"{method} {url}: {r.status_code}, expected {expect} {detail}".strip()
        self.stats.add(self.phase, kind, ms, error)
        return r if error is None else None

    def _keep_cookies(self, r: httpx.Response) -> None:
        self.client.cookies.clear()  # Secure cookies: kept here, sent by hand
        for header in r.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def post_form(self, kind: str, url: str, page: httpx.Response, fields: dict):
        token = CSRF_INPUT.search(page.text)
        if token is None:
            self.stats.add(self.phase, kind, 0.0, f"{url}: no CSRF token on the form page")
            return None
        r = self.request(kind, "POST", url, 302, {"csrfmiddlewaretoken": token[1], **fields})
        return r

    # ------------------------------------------------------------------ actions

    def login(self) -> bool:
        if self.role == "public":
            return True
        page = self.request("login form", "GET", "/conduct/login/", 200)
        if page is None:
            return False
        fields = {"username": LOGIN_OF[self.role], "next": "/conduct/"}
        fields["password"] = self.site["passwords"][LOGIN_OF[self.role]]
        return self.post_form("login", "/conduct/login/", page, fields) is not None

    def view(self) -> None:
        if self.role == "public":
            url = self.rng.choice(PUBLIC_PAGES)
            kind = "public: " + ("search" if "?q=" in url else "home" if url == "/" else
                                 "prescreener" if url.endswith("check/") else "listing")  # fmt: skip
            self.request(kind, "GET", url, 200)
            return
        if self.role == "vinmec" and self.rng.random() < 0.1:
            p = self.rng.choice(self.foreign)
            self.request("other site's participant (404)", "GET", _participant(p), 404)
            return
        x = self.rng.random()
        p = self.rng.choice(self.participants)
        if x < 0.25:
            url = f"/conduct/trials/{self.rng.choice(self.studies)}/"
            self.request("dashboard", "GET", url, 200)
        elif x < 0.65:
            self.request("participant", "GET", _participant(p), 200)
        elif x < 0.9 and p["visits"]:
            code = self.rng.choice(p["visits"])
            self.request("visit", "GET", f"{_participant(p)}visits/{code}/", 200)
        else:
            self.request("participant history", "GET", f"{_participant(p)}history/", 200)

    def open_query(self) -> None:
        p = self.rng.choice(self.participants)
        url = f"{_participant(p)}queries/new/"
        page = self.request("query form", "GET", url, 200)
        if page is None:
            return
        question = f"Benchmark user {self.n}: please confirm the initials against the source."
        fields = {"record": f"participant:{p['pk']}", "field": "initials", "question": question}
        if self.post_form("POST open query", url, page, fields) is None:
            return
        with self.stats.lock:
            self.stats.writes["open"] += 1
        after = self.request("participant", "GET", _participant(p), 200)
        if after is None:
            return
        for pk, qid in QUERY_LINK.findall(after.text):
            with self.board.lock:
                if int(qid) in self.board.known:
                    continue
                self.board.known.add(int(qid))
                self.board.open.append((int(pk), int(qid)))
                self.board.expected[int(qid)] = "open"

    def settle_query(self, pool: list, post_kind: str, fields: dict, status: str) -> bool:
        item = self.board.take(pool, self.rng)
        if item is None:
            return False
        url = f"/conduct/participants/{item[0]}/queries/{item[1]}/"
        page = self.request("query page", "GET", url, 200)
        if page is None or self.post_form(post_kind, url, page, fields) is None:
            return True
        with self.stats.lock:
            self.stats.writes["answer" if status == "answered" else "close"] += 1
        if status == "answered":
            self.board.put(self.board.answered, item, status)
        else:
            with self.board.lock:
                self.board.expected[item[1]] = status
        self.request("query page", "GET", url, 200)  # the redirect, as a browser follows it
        return True

    def act(self) -> None:
        x = self.rng.random()
        if self.role in ("coordinator", "investigator") and x < 0.25:
            answer = f"Checked against the source document (user {self.n})."
            if self.settle_query(self.board.open, "POST answer query", {"answer": answer},
                                 "answered"):  # fmt: skip
                return
        if self.role == "monitor" and x < 0.3:
            self.open_query()
            return
        if self.role == "monitor" and x < 0.5:
            fields = {"accept": "yes", "note": "benchmark: answer accepted"}
            if self.settle_query(self.board.answered, "POST close query", fields, "closed"):
                return
        self.view()

    def run(self, phase: str, deadline: float, think: float, only: str | None = None,
            actions: int = MAX_ACTIONS, views_only: bool = False) -> None:  # fmt: skip
        """Act until ``deadline`` (``time.monotonic``), at most ``actions`` times; ``only``:
        GET that URL instead; ``views_only``: page views, no posts (the warm-up)."""
        self.phase = phase
        for _ in range(min(actions, MAX_ACTIONS)):
            if time.monotonic() >= deadline:
                break
            if only is not None:
                self.request("baseline", "GET", only, 200)
            elif views_only:
                self.view()
            else:
                self.act()
            if think > 0:
                pause = min(self.rng.expovariate(1 / think), 5 * think)
                time.sleep(max(0.0, min(pause, deadline - time.monotonic())))

    def close(self) -> None:
        self.client.close()


def _participant(p: dict) -> str:
    return f"/conduct/participants/{p['pk']}/"


def make_users(n: int, base_url: str, stats: Stats, board: Board, site: dict) -> list[User]:
    return [
        User(i, ROLE_CYCLE[i % len(ROLE_CYCLE)], base_url, stats, board, site) for i in range(n)
    ]


def run_threads(users: list[User], target) -> None:  # noqa: ANN001
    """``target(user)`` in one thread per user; returns when all have finished."""
    threads = [threading.Thread(target=target, args=(u,), daemon=True) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
