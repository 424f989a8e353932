"""Slow clients against the production profile: nginx (Debian's, installed by
scripts/install-nginx.sh, with deploy/nginx/parindex.conf) in front of gunicorn (the
shipped gunicorn.conf.py), PostgreSQL, the S3 backend on a moto server and Redis.

Phases, each bounded to --seconds (20 by default), everything on 127.0.0.1:

1. nginx → one instance: 50 clients trickle a 10 MB upload body at ~100 KB/s (they
   never finish: the phase ends and they hang up) while 8 reader threads load the
   criteria page in a loop; prints req/s, p99 and errors of the readers and the
   number of gunicorn worker timeouts. Targets: ≥ 200 req/s, p99 < 500 ms, 0 errors,
   0 worker timeouts.
   Before it, the readers alone (no slow client), for comparison: the page's own cost.
2. the same straight to gunicorn, without nginx, for comparison (figures only: the
   targets are those of the shipped profile, nginx in front).
3. nginx → two instances sharing PostgreSQL, S3 and Redis: the same load, then
   clients that log in, upload, download and read pages with nginx spreading their
   requests over both instances (each response says which one served it), and a
   login throttle that must hold across both; prints the same figures and the errors.

Usage: python bench/slow_clients.py [--seconds 20] [--clients 50]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.client import HTTPConnection, HTTPException  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import requests  # noqa: E402

from bench import harness  # noqa: E402

TWO = "nginx → 2 instances"
BODY_BYTES = 10 * 1000 * 1000
RATE = 100 * 1000  # bytes per second per slow client
READERS = 8
PAGE_MARK = b'class="layout-with-nav"'  # the criteria tree: not a login or error page


@dataclass
class Figures:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def trickle(
    port: int, cookie: str, csrf: str, assessment_id: int, stop: threading.Event
) -> None:
    """One slow client: headers at once, then the body at RATE until told to stop."""
    boundary = "slowclient"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="Quét chậm.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    request = (
        f"POST /evidence/assessments/{assessment_id}/upload HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nX-CSRFToken: {csrf}\r\n"
        "X-Requested-With: XMLHttpRequest\r\nAccept: application/json\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {BODY_BYTES}\r\n\r\n"
    ).encode()
    piece = b"%PDF-1.4\n" + b"0" * (RATE // 10 - 9)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request + head)
            sent = len(head)
            while not stop.is_set() and sent + len(piece) < BODY_BYTES:
                sock.sendall(piece)
                sent += len(piece)
                stop.wait(0.1)
    except OSError:
        pass  # the server may hang up on a slow client; the readers are what we measure


def read_pages(client: harness.Client, stop: threading.Event, figures: Figures) -> None:
    """Load the criteria page in a loop on one kept-alive connection, as a browser tab.

    http.client, not requests: requests costs ~1.7 ms of CPU per page, on the same two
    cores as the servers it measures; this costs a fraction of it. A page counts only
    when it is the criteria page (status 200 and its criteria tree)."""
    parts = urlsplit(client.base)
    cookies = dict(client.http.cookies.items())
    path = f"/assessments/{client.assessment_id}"
    connection = None
    while not stop.is_set():
        start = time.perf_counter()
        try:
            if connection is None:
                connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            body = response.read()
            for header in response.headers.get_all("Set-Cookie") or ():
                name, _, rest = header.partition("=")
                cookies[name] = rest.partition(";")[0]
            ok = response.status == 200 and PAGE_MARK in body
            what = f"HTTP {response.status}" if response.status != 200 else "no page"
        except (OSError, HTTPException) as exc:
            ok, what = False, type(exc).__name__
            if connection is not None:
                connection.close()
            connection = None
        with figures.lock:
            figures.times.append(time.perf_counter() - start)
            if not ok:
                figures.errors.append(what)
    if connection is not None:
        connection.close()


def worker_timeouts(servers: harness.Servers) -> int:
    return sum(
        log.read_text(errors="replace").count("WORKER TIMEOUT")
        for log in servers.logs
        if log.name.startswith("gunicorn")
    )


def load_phase(
    servers: harness.Servers,
    name: str,
    base: str,
    seconds: float,
    clients: int,
    *,
    targets: bool = True,
) -> None:
    port = int(base.rsplit(":", 1)[1])
    owner = harness.Client(base)
    cookie = "; ".join(f"{k}={v}" for k, v in owner.http.cookies.items())
    readers = [harness.Client(base) for _ in range(READERS)]
    stop = threading.Event()
    figures = Figures()
    before = worker_timeouts(servers)
    threads = [
        threading.Thread(
            target=trickle, args=(port, cookie, owner.csrf, owner.assessment_id, stop)
        )
        for _ in range(clients)
    ]
    threads += [
        threading.Thread(target=read_pages, args=(r, stop, figures)) for r in readers
    ]
    for t in threads:
        t.start()
    time.sleep(1)  # the slow clients are all connected and trickling
    with figures.lock:
        figures.times.clear()
        figures.errors.clear()
    start, cpu_start = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - start
    # This process's CPU (readers, trickling clients): if it neared one core, the
    # figure would be the client's, not the server's.
    client_cpu = (time.process_time() - cpu_start) / elapsed
    for t in threads:
        t.join(timeout=35)
    time.sleep(0.5)
    timeouts = worker_timeouts(servers) - before
    n = len(figures.times)
    rate = n / elapsed
    p99 = harness.percentile(figures.times, 0.99) * 1000 if n else float("inf")
    p50 = harness.percentile(figures.times, 0.5) * 1000 if n else float("inf")
    errors = len(figures.errors)
    kinds = ", ".join(sorted(set(figures.errors))) if errors else "none"
    print(
        f"[{name}] {clients} slow uploads at {RATE // 1000} KB/s + criteria page: "
        f"{rate:.1f} req/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, {errors} errors "
        f"({kinds}), {timeouts} worker timeouts; bench client CPU {client_cpu:.0%} "
        "of one core"
    )
    if not targets:
        sys.stdout.flush()
        return
    for text, ok in (
        (f"{rate:.1f} req/s ≥ 200", rate >= 200),
        (f"p99 {p99:.0f} ms < 500 ms", p99 < 500),
        (f"{errors} errors = 0", errors == 0),
        (f"{timeouts} worker timeouts = 0", timeouts == 0),
    ):
        print(f"[{name}] ratio {text}: {harness.verdict(ok)}")
    sys.stdout.flush()


def spread_phase(base: str, rounds: int) -> None:
    """Sessions used across both instances; the login throttle shared through Redis."""
    errors: list[str] = []
    served: dict[str, int] = {}
    for i in range(rounds):
        try:
            client = harness.Client(base)
            data = harness.pdf_bytes(harness.MIB)
            body, boundary = harness.multipart(data, f"Hai máy {i}.pdf")
            response = client.upload(body, boundary)
            name = response.headers.get("X-Parindex-Instance", "?")
            served[name] = served.get(name, 0) + 1
            if response.status_code != 200:
                errors.append(f"upload {response.status_code}")
                continue
            evidence_id = response.json()["evidence"]["id"]
            for url in (
                f"{base}/evidence/{evidence_id}/download",
                f"{base}/assessments/{client.assessment_id}",
                f"{base}/evidence/{evidence_id}",
            ):
                got = client.http.get(url, timeout=60)
                name = got.headers.get("X-Parindex-Instance", "?")
                served[name] = served.get(name, 0) + 1
                if got.status_code != 200:
                    errors.append(f"GET {got.status_code}")
                elif (
                    url.endswith("/download")
                    and got.content != body[body.index(b"%PDF") :][: harness.MIB]
                ):
                    errors.append("download differs from upload")
        except (requests.RequestException, AssertionError, KeyError, ValueError) as exc:
            errors.append(type(exc).__name__)
    spread = ", ".join(f"{k}: {v}" for k, v in sorted(served.items()))
    print(
        f"[{TWO}] {rounds} sessions (login, upload 1 MiB, download, pages): "
        f"{len(errors)} errors, requests per instance {spread}"
    )
    both = len([k for k in served if k != "?"]) >= 2
    print(f"[{TWO}] ratio requests served by both instances: {harness.verdict(both)}")
    print(f"[{TWO}] ratio {len(errors)} errors = 0: {harness.verdict(not errors)}")

    # Wrong passwords for one account: the sixth is refused whichever instance gets it.
    page = requests.get(f"{base}/auth/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token
    statuses = []
    instances = set()
    for _ in range(6):
        response = requests.post(
            f"{base}/auth/login",
            data={
                "csrf_token": token.group(1),
                "username": "truclam.lanhdao",
                "password": "sai",
            },
            cookies=page.cookies,
            timeout=30,
        )
        statuses.append(response.status_code)
        instances.add(response.headers.get("X-Parindex-Instance", "?"))
    held = 429 not in statuses[:5] and statuses[5] == 429
    print(
        f"[{TWO}] login throttle: statuses {statuses} from {len(instances)} instances"
    )
    print(f"[{TWO}] ratio throttle counted across both: {harness.verdict(held)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with harness.Servers() as servers:
        _, (app_a, app_b) = servers.production(
            database_url=harness.PG_URL, s3=True, redis=True, instances=2,
            PARINDEX_TRUSTED_PROXIES="1",
        )  # fmt: skip
        one = servers.nginx(harness.free_port(), [app_a])
        # What the readers get with no slow client at all: the page's own cost.
        load_phase(
            servers, "nginx → gunicorn, readers only", one, args.seconds, 0,
            targets=False,
        )  # fmt: skip
        load_phase(servers, "nginx → gunicorn", one, args.seconds, args.clients)
        # For comparison (the targets are the shipped profile's, nginx in front).
        load_phase(
            servers, "gunicorn without nginx", f"http://127.0.0.1:{app_a}",
            args.seconds, args.clients, targets=False,
        )  # fmt: skip
        two = servers.nginx(harness.free_port(), [app_a, app_b])
        load_phase(servers, TWO, two, args.seconds, args.clients)
        spread_phase(two, args.rounds)


if __name__ == "__main__":
    main()
