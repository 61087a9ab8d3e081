"""The load figures of `make bench`: the portal served as production serves it, under load.

gunicorn with the project's `gunicorn.conf.py`, two sync workers, DEBUG off, on the
bench's PostgreSQL database with Redis for sessions, is loaded page by page for a few
seconds by concurrent clients (wrk where it is installed, else the small Python client
below). Each page's rate is printed beside its ratio to the bare `/livez/` endpoint,
the ceiling that no page of the portal can pass. The machine's speed drifts by tens of
per cent within a minute, so each page is loaded in a few slices that alternate with
slices of the ceiling, and its ratio is to the ceiling measured alongside it.

It needs PostgreSQL and Redis (the server's processes must reach the bench's database
and share sessions); elsewhere it says so and measures nothing.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from .benchmarking import BenchContext, Figure, database_url

WORKERS = 2
CONNECTIONS = 8
# Seconds of load per page; the test of this module shortens it.
SECONDS_PER_PAGE = float(os.environ.get("BENCH_LOAD_SECONDS", "4"))
# Slices of a page, each after a slice of the ceiling half as long.
ROUNDS = 4
# The floors, as shares of the bare endpoint's rate.
FLOORS = {"item page": 0.10, "vault list": 0.10, "provider dashboard": 0.05}


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    median_ms: float
    p99_ms: float
    errors: int
    # Every request's time, from the Python generator (wrk gives its percentiles only).
    latencies_ms: tuple[float, ...] = ()
    # CPU the Python load generator spent per request (None under wrk): the generator
    # shares the machine's cores with the server, so its own ceiling is printed beside.
    client_cpu_us: float | None = None

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


def _merged(slices: list[LoadResult]) -> LoadResult:
    """The slices of one path as one run: requests over the seconds they took."""
    latencies = sorted(ms for one in slices for ms in one.latencies_ms)
    if latencies:
        median, p99 = statistics.median(latencies), _percentile(latencies, 0.99)
    else:  # wrk's slices: their median medians, and the worst 99th percentile
        median = statistics.median(one.median_ms for one in slices)
        p99 = max(one.p99_ms for one in slices)
    requests = sum(one.requests for one in slices)
    cpu = [one.client_cpu_us * one.requests for one in slices if one.client_cpu_us]
    return LoadResult(
        requests=requests,
        seconds=sum(one.seconds for one in slices),
        median_ms=median,
        p99_ms=p99,
        errors=sum(one.errors for one in slices),
        latencies_ms=tuple(latencies),
        client_cpu_us=sum(cpu) / requests if cpu else None,
    )


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def seed(ctx: BenchContext) -> None:
    """Nothing of its own: it loads the pages the other modules seeded."""


def figures(ctx: BenchContext) -> list[Figure]:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        ctx.shared.setdefault("notes", []).append(
            "Load figures need DATABASE_URL on PostgreSQL and REDIS_URL: not measured."
        )
        return []
    pages = _pages(ctx)
    # A production-grade key of its own (the bench may run on a development .env); the
    # sessions made here sign their auth hash with it, so the server accepts them.
    secret_key = secrets.token_urlsafe(50)
    with override_settings(SECRET_KEY=secret_key):
        cookies = {label: _session_cookie(ctx, user) for label, _path, user in pages if user}
    with _production_server(secret_key) as base_url:
        _load(base_url, "/livez/", cookie=None, seconds=min(1.0, SECONDS_PER_PAGE))  # warm-up
        measured = [
            (label, *_alongside_ceiling(base_url, path, cookies.get(label)))
            for label, path, _user in pages
        ]
    ceiling = _merged([alongside for _label, _result, alongside in measured])
    out = [_figure("bare /livez/ (the ceiling)", ceiling, ceiling, None)]
    out += [
        _figure(label, result, alongside, FLOORS.get(label))
        for label, result, alongside in measured
    ]
    if ceiling.client_cpu_us:
        ctx.shared.setdefault("notes", []).append(
            f"The Python load generator spent {ceiling.client_cpu_us:,.0f} µs of CPU per "
            f"request on the ceiling (its own limit about {1e6 / ceiling.client_cpu_us:,.0f} "
            "req/s on one core); it shares the machine's cores with the server."
        )
    return out


def _alongside_ceiling(base_url: str, path: str, cookie: str | None):
    """`path` under load in ROUNDS slices, each after a slice of the ceiling: the page's
    result and the ceiling's, both measured while the machine ran at the same speed."""
    page, ceiling = [], []
    for _round in range(ROUNDS):
        ceiling.append(
            _load(base_url, "/livez/", cookie=None, seconds=SECONDS_PER_PAGE / ROUNDS / 2)
        )
        page.append(_load(base_url, path, cookie=cookie, seconds=SECONDS_PER_PAGE / ROUNDS))
    return _merged(page), _merged(ceiling)


def _figure(label: str, result: LoadResult, ceiling: LoadResult, floor: float | None) -> Figure:
    """The rate, with its share of the ceiling alongside and, for a floored page, the
    verdict."""
    share = result.requests_per_second / ceiling.requests_per_second
    verdict = ""
    if floor is not None:
        verdict = f" (floor >= {floor:.0%}: {'ok' if share >= floor else 'BELOW FLOOR'})"
    alongside = (
        "" if result is ceiling else f" ({ceiling.requests_per_second:,.0f} req/s alongside)"
    )
    return Figure(
        f"load, {label}",
        result.requests_per_second,
        "req/s",
        detail=f"median {result.median_ms:,.1f} ms, p99 {result.p99_ms:,.1f} ms, "
        f"errors {result.errors}; {share:.1%} of the ceiling{alongside}{verdict}",
    )


def _pages(ctx: BenchContext) -> list[tuple[str, str, object]]:
    pages: list[tuple[str, str, object]] = [("login page", reverse("login"), None)]
    if ctx.shared.get("vault"):
        org, owner, _member = ctx.shared["vault"][0]
        item = org.items.order_by("pk").first()
        pages += [
            ("item page", reverse("vault_item_detail", args=[org.pk, item.pk]), owner),
            ("vault list", reverse("vault_item_list", args=[org.pk]), owner),
        ]
    if ctx.shared.get("provider"):
        provider = ctx.shared["provider"]
        pages.append(
            (
                "provider dashboard",
                reverse("provider_dashboard", args=[provider.pk]),
                ctx.shared["provider_admin"],
            )
        )
    if ctx.shared.get("big_client"):
        org, owner, _collection = ctx.shared["big_client"]
        pages.append(("members page (5,000 members)", reverse("org_members", args=[org.pk]), owner))
    return pages


def _session_cookie(ctx: BenchContext, user) -> str:
    browser = ctx.logged_in_client(user)
    return f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"


class _production_server:
    """gunicorn as docker-compose runs it, on a free loopback port, stopped on exit."""

    def __init__(self, secret_key: str):
        self.secret_key = secret_key

    def __enter__(self) -> str:
        port = _free_port()
        env = {
            **os.environ,
            "DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "portal.settings.base",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "VAULT_KEKS": settings.VAULT_KEKS or "",
            "VAULT_KEKS_FILE": settings.VAULT_KEKS_FILE or "",
            # Plain HTTP on loopback stands for the TLS proxy in front of production.
            "SECURE_SSL_REDIRECT": "false",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(WORKERS),
        }
        # Static files collected as the image's build does, into a directory of its own.
        self.data_dir = tempfile.TemporaryDirectory(prefix="portal-load-bench-")
        env["PORTAL_DATA_DIR"] = self.data_dir.name
        subprocess.run(  # noqa: S603 (our interpreter and manage.py)
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            env=env,
            cwd=settings.BASE_DIR,
            check=True,
        )
        command = [sys.executable, "-m", "gunicorn", "portal.wsgi", "--config", "gunicorn.conf.py"]
        self.process = subprocess.Popen(  # noqa: S603 (our interpreter, the project's config)
            [*command, "--access-logfile", "/dev/null"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(port, self.process)
        return self.base_url

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.data_dir.cleanup()


def _load(base_url: str, path: str, *, cookie: str | None, seconds: float) -> LoadResult:
    if shutil.which("wrk"):
        return _load_with_wrk(base_url, path, cookie, seconds)
    return _load_with_threads(base_url, path, cookie, seconds)


def _load_with_wrk(base_url: str, path: str, cookie: str | None, seconds: float) -> LoadResult:
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{max(1, round(seconds))}s"]
    command += ["--latency", "-H", "Host: 127.0.0.1"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(  # noqa: S603 (wrk from the machine's packages)
        [*command, base_url + path], capture_output=True, text=True, check=True
    ).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s)", output)
    took = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        requests=int(done.group(1)),
        seconds=took,
        median_ms=_wrk_ms(re.search(r"50%\s+(\S+)", output).group(1)),
        p99_ms=_wrk_ms(re.search(r"99%\s+(\S+)", output).group(1)),
        errors=int(errors.group(1)) if errors else 0,
    )


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _load_with_threads(base_url: str, path: str, cookie: str | None, seconds: float) -> LoadResult:
    """CONNECTIONS clients for `seconds`; bounded in count and time.

    Kept cheap, since it competes with the server for the cores: each request is one
    prepared byte string on a raw socket, and a response is read only as far as its
    status line and Content-Length. A connection is kept while the server keeps it
    (gunicorn's sync workers close each one, so those clients reconnect).
    """
    host, port = base_url.removeprefix("http://").split(":")
    request = _request_bytes(path, cookie)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine, failed, sock = [], 0, None
        # At least one request each, however short the slice.
        while not mine or (time.perf_counter() < deadline and len(mine) < 100_000):
            started = time.perf_counter()
            if sock is None:
                sock = socket.create_connection((host, int(port)), timeout=30)
            sock.sendall(request)
            status, keep_alive = _read_response(sock)
            mine.append((time.perf_counter() - started) * 1000)
            failed += status != 200
            if not keep_alive:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started, cpu_started = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        median_ms=statistics.median(latencies),
        p99_ms=_percentile(latencies, 0.99),
        errors=errors[0],
        latencies_ms=tuple(latencies),
        client_cpu_us=cpu / len(latencies) * 1e6,
    )


def _request_bytes(path: str, cookie: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/html"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_response(sock: socket.socket) -> tuple[int, bool]:
    """Read one response; its status, and whether the connection stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    header_lines = head.split(b"\r\n")
    status = int(header_lines[0].split(b" ", 2)[1])
    headers = dict(_header(line) for line in header_lines[1:])
    length = headers.get(b"content-length")
    closes = headers.get(b"connection", b"").lower() == b"close"
    if length is None:  # no length: the body runs to the connection's end
        while sock.recv(65536):
            pass
        return status, False
    remaining = int(length) - len(body)
    while remaining > 0:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise ConnectionError("the server closed the connection mid-body")
        remaining -= len(chunk)
    return status, not closes


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port: int, process: subprocess.Popen) -> None:
    for _attempt in range(300):
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited while starting; run it by hand to see why")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/livez/", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer within 30 seconds")
