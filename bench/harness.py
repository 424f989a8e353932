"""What the HTTP benchmarks share: the servers they start (moto S3, Redis, gunicorn with
the shipped gunicorn.conf.py, nginx from Debian with the shipped deploy/nginx config),
a logged-in client, and multipart bodies. Every server listens on 127.0.0.1 only and is
stopped when the `Servers` block ends, whatever happened."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MIB = 1 << 20
PASSWORD = "ParIndex@2026"
UNIT_USER = "truclam.chuyenvien"
BUCKET = "parindex-bench"
NGINX = "/usr/sbin/nginx"
# One database per checkout: engineers benchmarking side by side do not share one.
PG_URL = os.environ.get(
    "PARINDEX_BENCH_DATABASE_URL",
    f"postgresql+psycopg://postgres@127.0.0.1:5432/parindex_bench_{ROOT.name}",
)


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it), on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(
    port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited ({proc.returncode})")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Servers(contextlib.ExitStack):
    """Child processes started for one benchmark; all stopped on exit."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="parindex-bench-"))
        self.callback(shutil.rmtree, self.tmp, True)
        self.logs: list[Path] = []

    def spawn(
        self, name: str, argv: list[str], port: int, **kw: Any
    ) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        self.logs.append(log)
        out = log.open("wb")
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw
        )
        self.callback(_stop, proc)
        self.callback(out.close)
        wait_port(port, proc)
        return proc

    def moto(self, port: int) -> str:
        self.spawn(
            "moto", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port
        )
        return f"http://127.0.0.1:{port}"

    def redis(self, port: int) -> str:
        self.spawn(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no"],
            port,
        )  # fmt: skip
        return f"redis://127.0.0.1:{port}/0"

    def gunicorn(
        self, env: dict[str, str], port: int, name: str = "gunicorn"
    ) -> subprocess.Popen[bytes]:
        env = {
            **env,
            "PARINDEX_BIND": f"127.0.0.1:{port}",
            "PARINDEX_ACCESS_LOG": "/dev/null",
        }
        proc = self.spawn(
            name, [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], port,
            cwd=ROOT, env=env,
        )  # fmt: skip
        # The port is open before every worker has booted: wait for a real answer.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/auth/login", timeout=5).ok:
                    break
            time.sleep(0.2)
        return proc

    def nginx(self, port: int, upstreams: list[int]) -> str:
        """Debian's nginx with deploy/nginx/parindex.conf, pointed at local ports."""
        if not Path(NGINX).exists():
            subprocess.run(["bash", str(ROOT / "scripts/install-nginx.sh")], check=True)
        conf = (ROOT / "deploy/nginx/parindex.conf").read_text()
        servers = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in upstreams
        )
        conf = re.sub(r"(?m)^\s*#?\s*server 127\.0\.0\.1:800\d.*$\n?", "", conf)
        conf = conf.replace(
            "upstream parindex_app {", "upstream parindex_app {\n" + servers, 1
        )
        # For the benchmark only: say which instance served each response.
        conf = conf.replace(
            "listen 80;",
            f"listen 127.0.0.1:{port};\n"
            "    add_header X-Parindex-Instance $upstream_addr always;",
        )
        conf = conf.replace("/srv/parindex/static/", f"{ROOT / 'static'}/")
        prefix = self.tmp / f"nginx-{port}"
        conf = conf.replace("/var/lib/nginx/body", f"{prefix}/body")
        for sub in ("body", "proxy", "logs"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        main = f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/proxy;
    uwsgi_temp_path {prefix}/proxy;
    scgi_temp_path {prefix}/proxy;
{conf}
}}
"""
        path = prefix / "nginx.conf"
        path.write_text(main)
        self.spawn("nginx", [NGINX, "-p", str(prefix), "-c", str(path)], port)
        return f"http://127.0.0.1:{port}"

    def production(
        self,
        *,
        database_url: str,
        s3: bool,
        redis: bool = False,
        instances: int = 1,
        **extra: str,
    ) -> tuple[dict[str, str], list[int]]:
        """The production profile on free ports: moto S3 and Redis if asked, a fresh
        database with the demo data, ``instances`` gunicorns; their env and ports."""
        endpoint = self.moto(free_port()) if s3 else None
        redis_url = self.redis(free_port()) if redis else None
        env = app_env(
            self.tmp, database_url=database_url, s3_endpoint=endpoint,
            redis_url=redis_url,
        )  # fmt: skip
        env.update(extra)
        prepare_database(env)
        ports = [free_port() for _ in range(instances)]
        for n, port in enumerate(ports):
            self.gunicorn(env, port, f"gunicorn-{chr(ord('a') + n)}")
        return env, ports


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def app_env(
    tmp: Path,
    *,
    database_url: str,
    s3_endpoint: str | None = None,
    redis_url: str | None = None,
) -> dict[str, str]:
    """The production profile's environment (see deploy/parindex.env.example)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PARINDEX_", "DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=database_url,
        PARINDEX_SECRET_KEY=secrets.token_urlsafe(36),
        PARINDEX_EVIDENCE_LOCAL_ROOT=str(tmp / "evidence"),
        PARINDEX_LOG_LEVEL="warning",
        FLASK_APP="wsgi.py",
    )
    if s3_endpoint:
        env.update(
            PARINDEX_EVIDENCE_BACKEND="s3",
            PARINDEX_S3_ENDPOINT_URL=s3_endpoint,
            PARINDEX_S3_BUCKET=BUCKET,
            PARINDEX_S3_ACCESS_KEY="bench",
            PARINDEX_S3_SECRET_KEY="bench",
            PARINDEX_S3_CREATE_BUCKET="true",
        )
    if redis_url:
        env["PARINDEX_RATELIMIT_STORAGE_URI"] = redis_url
    return env


def prepare_database(env: dict[str, str]) -> None:
    """A fresh schema and the demo data (the 71-leaf criteria set and its units)."""
    url = env["DATABASE_URL"]
    if url.startswith("postgresql"):
        subprocess.run(
            ["bash", str(ROOT / "scripts/create-test-db.sh"), url], check=True, cwd=ROOT
        )
    for args in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(
            [str(BIN / "flask"), *args], check=True, cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client:
    """A browser-like session: logs in through the real form, keeps the CSRF token."""

    def __init__(self, base: str, username: str = UNIT_USER) -> None:
        self.base = base
        self.http = requests.Session()
        page = self.http.get(f"{base}/auth/login", timeout=30)
        token = _CSRF.search(page.text)
        assert token, "no CSRF token on the login page"
        response = self.http.post(
            f"{base}/auth/login",
            data={
                "csrf_token": token.group(1),
                "username": username,
                "password": PASSWORD,
            },
            timeout=30,
        )
        response.raise_for_status()
        home = self.http.get(f"{base}/assessments/", timeout=30)
        found = re.search(r'href="/assessments/(\d+)"', home.text)
        assert found, "the unit user sees no assessment"
        self.assessment_id = int(found.group(1))
        token = _CSRF.search(home.text)
        assert token
        self.csrf = token.group(1)

    def upload(
        self, body: bytes, boundary: str, size: int | None = None
    ) -> requests.Response:
        """POST as the upload widget does; ``size``: its file's, which it declares."""
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRFToken": self.csrf,
            "X-Requested-With": "XMLHttpRequest",
            "Accept": "application/json",
        }
        if size is not None:
            headers["X-Upload-Size"] = str(size)
        return self.http.post(
            f"{self.base}/evidence/assessments/{self.assessment_id}/upload",
            data=body,
            headers=headers,
            timeout=300,
        )


def pdf_bytes(size: int) -> bytes:
    """A PDF-shaped file of random bytes (nothing to compress, no text to read)."""
    head, tail = b"%PDF-1.4\n%", b"\ntrailer\n<< >>\n%%EOF\n"
    middle = os.urandom(size - len(head) - len(tail)).replace(b"%%EOF", b"%%EOG")
    return head + middle + tail


def multipart(data: bytes, filename: str, code: str = "1.1.1") -> tuple[bytes, str]:
    boundary = "parindexbench" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="criterion_code"\r\n\r\n'
        f'{code}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "met" if ok else "not met"


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)
