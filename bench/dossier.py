"""Benchmark the streamed dossier ZIP against raw boto3 downloads (same run, same S3).

Starts moto's S3 server (ThreadedMotoServer, 127.0.0.1, in a child process so the
gigabyte it holds is not counted against anyone measured here), loads the demo data into
a temporary SQLite database, stores 20 × 50 MiB evidence files (random bytes behind a
PDF header, so nothing compresses) through the app's S3 store and links them to leaves
of phường Trúc Lâm's assessment (three of them prove two leaves each). Then:

1. raw: boto3 ``get_object`` of the 20 objects one after another, read in 4 MiB chunks
   (the app's read size);
2. app: ``GET /dossier/assessments/<id>/dossier.zip`` from the real app served by
   werkzeug's ``make_server`` in its own process, read with ``requests`` in 1 MiB chunks
   (SHA-256 re-check of every file, ZIP framing, report and score table included).

The app process's peak memory growth during the download is measured from Linux
/proc: its RSS high-water mark (VmHWM) is reset through /proc/<pid>/clear_refs just
before the download, and the growth is VmHWM after minus VmRSS before.

Targets: app ≥ 50 % of raw throughput; < 100 MB memory growth for the ~1 GB dossier.
Usage: python bench/dossier.py [--files 20] [--size-mib 50] [--rounds 1]
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and would shadow packages.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

MIB = 1 << 20
# Raw reads use the app's read size (webapp.dossier.exports.READ_AHEAD_CHUNK), so both
# sides make the same number of trips through boto3.
READ_SIZE = 4 * MIB
PASSWORD = "ParIndex@2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_moto(port: int, ready: Any, stop: Any) -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    ready.set()
    stop.wait()
    server.stop()


def run_app(config: dict[str, Any], port: int, ready: Any) -> None:
    from werkzeug.serving import make_server

    from webapp import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(config)
    server = make_server("127.0.0.1", port, app, threaded=True)
    ready.set()
    server.serve_forever()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak(pid: int) -> bool:
    """Reset the RSS high-water mark (Linux ≥ 4.0); False if not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class RandomPdf(io.RawIOBase):
    """``size`` bytes: a PDF header then random data, produced as it is read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.head = b"%PDF-1.7\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        if n <= 0:
            return 0
        data = (self.head + os.urandom(n))[:n] if self.head else os.urandom(n)
        self.head = b""
        buffer[:n] = data
        self.left -= n
        return n


def seed(config: dict[str, Any], files: int, size: int) -> tuple[int, list[str], int]:
    """Demo data plus the evidence files in S3; return (assessment id, keys, bytes)."""
    import sqlalchemy as sa

    from evidence_store import new_key
    from webapp import create_app
    from webapp.criteria_sets import criteria_for
    from webapp.demo import load_demo
    from webapp.extensions import db
    from webapp.models import Assessment, Evidence, EvidenceLink, Unit, User
    from webapp.storage import get_store

    app = create_app(config)
    with app.app_context():
        db.create_all()
        load_demo()
        assessment = db.session.scalar(
            sa.select(Assessment).join(Unit).where(Unit.code == "TRUCLAM")
        )
        editor = db.session.scalar(
            sa.select(User).where(User.username == "truclam.chuyenvien")
        )
        assert assessment is not None and editor is not None
        leaves = [leaf for leaf in criteria_for(assessment).leaves() if leaf.evidence]
        store = get_store()
        keys = []
        for i in range(files):
            stored = store.put(
                new_key("TRUCLAM"), io.BufferedReader(RandomPdf(size), MIB)
            )
            codes = [leaves[i % len(leaves)].code]
            if i < 3:  # a few documents prove two leaves, as plans and reports do
                codes.append(leaves[(i + files) % len(leaves)].code)
            ev = Evidence(
                unit_id=assessment.unit_id,
                assessment_id=assessment.id,
                storage_key=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                mime_type="application/pdf",
                kind="pdf",
                uploaded_by_id=editor.id,
                original_filename=f"Tài liệu kiểm chứng số {i + 1:02d}.pdf",
                doc_number=f"{100 + i}/BC-UBND",
                issuer="UBND phường Trúc Lâm",
            )
            ev.links = [EvidenceLink(criterion_code=c) for c in codes]
            db.session.add(ev)
            keys.append(stored.key)
        db.session.commit()
        return assessment.id, keys, files * size


def raw_download(config: dict[str, Any], keys: list[str]) -> tuple[int, float]:
    from evidence_store import make_client

    client = make_client(
        endpoint_url=config["S3_ENDPOINT_URL"],
        region="us-east-1",
        access_key="bench",
        secret_key="bench",
        path_style=True,
    )
    total = 0
    started = time.perf_counter()
    for key in keys:
        body = client.get_object(Bucket=config["S3_BUCKET"], Key=key)["Body"]
        while chunk := body.read(READ_SIZE):
            total += len(chunk)
        body.close()
    return total, time.perf_counter() - started


def app_download(
    base: str, assessment_id: int, pid: int
) -> tuple[int, float, int, bool, float]:
    import requests

    session = requests.Session()
    login = session.post(
        f"{base}/auth/login",
        data={"username": "truclam.chuyenvien", "password": PASSWORD},
        allow_redirects=False,
    )
    assert login.status_code == 302, f"login failed: {login.status_code}"
    # A warm server: the criteria set is parsed once per process, by whichever page
    # comes first; the dossier page does it here, outside the measurement.
    session.get(
        f"{base}/dossier/assessments/{assessment_id}/settings"
    ).raise_for_status()
    resettable = reset_peak(pid)
    before = proc_status(pid)["VmRSS"]
    total = 0
    first: float | None = None
    started = time.perf_counter()
    with session.get(
        f"{base}/dossier/assessments/{assessment_id}/dossier.zip", stream=True
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_content(MIB):
            if first is None:
                first = time.perf_counter() - started
            total += len(chunk)
    elapsed = time.perf_counter() - started
    growth = proc_status(pid)["VmHWM"] - before
    return total, elapsed, growth, resettable, first or 0.0


def measure(config: dict[str, Any], args: argparse.Namespace) -> None:
    """Seed, serve the app, alternate raw and app downloads, print the figures."""
    t0 = time.perf_counter()
    assessment_id, keys, total = seed(config, args.files, args.size_mib * MIB)
    print(
        f"seeded {len(keys)} × {args.size_mib} MiB in {time.perf_counter() - t0:.1f} s"
    )

    ctx = multiprocessing.get_context("spawn")
    port, ready = free_port(), ctx.Event()
    app_proc = ctx.Process(target=run_app, args=(config, port, ready), daemon=True)
    app_proc.start()
    try:
        if not ready.wait(60):
            raise SystemExit("app server did not start")
        base, pid = f"http://127.0.0.1:{port}", app_proc.pid or 0
        raw_download(config, keys)  # untimed: moto's first read of an object is slower
        raw_rates: list[float] = []
        app_rates: list[float] = []
        growths: list[int] = []
        first_bytes: list[float] = []
        zip_bytes, resettable = 0, True
        for i in range(args.rounds):
            # raw, app, app, raw, …: drift in moto's speed over the run cancels out.
            for step in ("raw", "app") if i % 2 == 0 else ("app", "raw"):
                if step == "raw":
                    n, seconds = raw_download(config, keys)
                    assert n == total, (n, total)
                    raw_rates.append(n / seconds / MIB)
                    continue
                zip_bytes, seconds, growth, resettable, first = app_download(
                    base, assessment_id, pid
                )
                assert zip_bytes > total, "the ZIP is smaller than its evidence"
                app_rates.append(total / seconds / MIB)
                growths.append(growth)
                first_bytes.append(first)
    finally:
        app_proc.terminate()
        app_proc.join(10)

    raw_rate, app_rate = statistics.median(raw_rates), statistics.median(app_rates)
    method = "VmHWM after − VmRSS before, peak reset through /proc/<pid>/clear_refs"
    if not resettable:
        method = "VmHWM after − VmRSS before; peak NOT reset, may understate"
    lines = [
        f"evidence: {len(keys)} files, {total / MIB:.0f} MiB; "
        f"ZIP {zip_bytes / MIB:.1f} MiB",
        "raw rounds (MiB/s): " + ", ".join(f"{r:.0f}" for r in raw_rates),
        "app rounds (MiB/s): " + ", ".join(f"{r:.0f}" for r in app_rates),
        f"raw boto3 download:     {raw_rate:7.1f} MiB/s (median)",
        f"streamed dossier (app): {app_rate:7.1f} MiB/s (median, evidence bytes/s)",
        f"  first byte after {min(first_bytes):.2f} s (report and score table built)",
        f"ratio app/raw:          {app_rate / raw_rate:7.1%} (target ≥ 50 %)",
        f"app peak memory growth: {max(growths) / MIB:7.1f} MiB (target < 100 MB)",
        f"  measured as {method}",
    ]
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    ctx = multiprocessing.get_context("spawn")
    moto_port = free_port()
    moto_ready, moto_stop = ctx.Event(), ctx.Event()
    moto = ctx.Process(
        target=run_moto, args=(moto_port, moto_ready, moto_stop), daemon=True
    )
    moto.start()
    try:
        if not moto_ready.wait(30):
            raise SystemExit("moto server did not start")
        with tempfile.TemporaryDirectory(prefix="bench-dossier-") as tmp:
            measure(
                {
                    "SECRET_KEY": "bench",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                    "WTF_CSRF_ENABLED": False,
                    "EVIDENCE_BACKEND": "s3",
                    "S3_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
                    "S3_BUCKET": "bench-dossier",
                    "S3_ACCESS_KEY": "bench",
                    "S3_SECRET_KEY": "bench",
                    "S3_REGION": "us-east-1",
                    "S3_PATH_STYLE": True,
                    "S3_CREATE_BUCKET": True,
                },
                args,
            )
    finally:
        moto_stop.set()
        moto.join(10)
        if moto.is_alive():
            moto.terminate()


if __name__ == "__main__":
    main()
