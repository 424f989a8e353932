"""Benchmark the real routes through gunicorn with the shipped gunicorn.conf.py.

Twice: on the embedded default (SQLite file, local evidence directory) and on the S3
backend against a moto server on 127.0.0.1. Each run starts its own servers, loads the
demo data (the 71-leaf criteria set), logs in as phường Trúc Lâm's chuyên viên and
measures, next to the same run's raw baselines:

- the criteria page: p50/p95 over 50 requests after 5 warm-ups, and its size;
- uploads of 100 × 1 MiB and 5 × 40 MiB PDFs (random bytes behind a PDF header) through
  the upload widget's XHR route, one after another; next to raw write+fsync of the
  same bytes into the same filesystem (local) or raw boto3 ``put_object`` (S3);
- the evidence ZIP of that assessment: seconds to the first byte and to the last,
  next to a raw read of the same stored bytes (files, or boto3 ``get_object``). On the
  local backend both come from the disk: the stored files are evicted from the page
  cache (``posix_fadvise(DONTNEED)``) before the ZIP and before the raw read, as a
  dossier is read in production (the store itself releases the pages of what it has
  written and read).

Each target is printed on its own line ending in "met" or "not met".
Usage: python bench/http.py [--backend local|s3|both] [--small 100] [--large 5]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and this file would shadow the
# standard library's "http" package: drop it before anything imports http.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from bench.harness import (  # noqa: E402
    BUCKET,
    MIB,
    Client,
    Servers,
    multipart,
    pdf_bytes,
    percentile,
    verdict,
)


def raw_write(directory: Path, blobs: list[bytes]) -> float:
    """Seconds to write and fsync each blob to its own new file, as the store does."""
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i, blob in enumerate(blobs):
        fd = os.open(directory / f"raw-{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
    elapsed = time.perf_counter() - start
    for i in range(len(blobs)):
        os.unlink(directory / f"raw-{i}")
    return elapsed


def s3_client(endpoint: str) -> Any:
    from evidence_store import make_client

    return make_client(endpoint_url=endpoint, access_key="bench", secret_key="bench")


def raw_put(client: Any, blobs: list[bytes]) -> float:
    start = time.perf_counter()
    for i, blob in enumerate(blobs):
        client.put_object(Bucket=BUCKET, Key=f"raw/{i}", Body=blob)
    elapsed = time.perf_counter() - start
    for i in range(len(blobs)):
        client.delete_object(Bucket=BUCKET, Key=f"raw/{i}")
    return elapsed


def upload_all(client: Client, blobs: list[bytes], stem: str) -> float:
    bodies = [(*multipart(b, f"{stem} {i}.pdf"), len(b)) for i, b in enumerate(blobs)]
    start = time.perf_counter()
    for body, boundary, size in bodies:
        response = client.upload(body, boundary, size)
        if response.status_code != 200:
            raise RuntimeError(
                f"upload refused: {response.status_code} {response.text[:300]}"
            )
    return time.perf_counter() - start


def page_figures(client: Client) -> tuple[float, float, int]:
    url = f"{client.base}/assessments/{client.assessment_id}"
    for _ in range(5):
        client.http.get(url).raise_for_status()
    times, size = [], 0
    for _ in range(50):
        start = time.perf_counter()
        response = client.http.get(url)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
        size = len(response.content)
    return percentile(times, 0.5) * 1000, percentile(times, 0.95) * 1000, size


def zip_figures(client: Client) -> tuple[float, float, int]:
    url = f"{client.base}/dossier/assessments/{client.assessment_id}/dossier.zip"
    start = time.perf_counter()
    first = None
    total = 0
    with client.http.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(MIB):
            if first is None:
                first = time.perf_counter() - start
            total += len(chunk)
    return first or 0.0, time.perf_counter() - start, total


def evidence_files(root: Path) -> list[Path]:
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    ]


def drop_cache(root: Path) -> None:
    """Evict the stored files from the page cache (clean pages: no root needed), so
    the ZIP and the raw read both come from the disk, as a dossier does in production
    (a period's evidence is far larger than the memory of the server)."""
    for path in evidence_files(root):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def raw_read_local(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    total = 0
    for path in evidence_files(root):
        with path.open("rb", buffering=0) as f:
            while chunk := f.read(4 * MIB):
                total += len(chunk)
    return time.perf_counter() - start, total


def raw_read_s3(client: Any) -> tuple[float, int]:
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for item in page.get("Contents", [])
    ]
    start = time.perf_counter()
    total = 0
    for key in keys:
        body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
        while chunk := body.read(4 * MIB):
            total += len(chunk)
    return time.perf_counter() - start, total


def zip_line(
    tag: str, client: Client, raw: Callable[[], tuple[float, int]], where: str
) -> tuple[float, float]:
    """Download the evidence ZIP, then read the same stored bytes raw; print both."""
    first, seconds, zipped = zip_figures(client)
    raw_seconds, raw_bytes = raw()
    zip_rate, raw_rate = zipped / MIB / seconds, raw_bytes / MIB / raw_seconds
    print(
        f"{tag} ZIP {zipped / MIB:.0f} MiB{where}: {seconds:.2f} s, "
        f"first byte {first:.2f} s, "
        f"{zip_rate:.0f} MiB/s (raw read of {raw_bytes / MIB:.0f} MiB: "
        f"{raw_seconds:.2f} s, {raw_rate:.0f} MiB/s)"
    )
    return zip_rate, raw_rate


def run(backend: str, small: int, large: int) -> None:
    tag = f"[{backend}]"
    with Servers() as servers:
        env, (port,) = servers.production(
            database_url=f"sqlite:///{servers.tmp / 'parindex.sqlite'}",
            s3=backend == "s3",
        )
        endpoint = env.get("PARINDEX_S3_ENDPOINT_URL")
        client = Client(f"http://127.0.0.1:{port}")
        s3 = s3_client(endpoint) if endpoint else None

        p50, p95, size = page_figures(client)
        kb = size / 1024
        print(f"{tag} criteria page: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {kb:.0f} KB")

        ones = [pdf_bytes(MIB) for _ in range(small)]
        app_small = upload_all(client, ones, "Một MiB")
        raw_small = (
            raw_put(s3, ones) if s3 else raw_write(servers.tmp / "evidence", ones)
        )
        raw_name = "raw boto3 put" if s3 else "raw write+fsync"
        rate_small, raw_rate_small = small / app_small, small / raw_small
        print(
            f"{tag} upload {small} × 1 MiB: {rate_small:.1f} MiB/s "
            f"({raw_name} {raw_rate_small:.1f} MiB/s)"
        )
        del ones
        forties = [pdf_bytes(40 * MIB) for _ in range(large)]
        app_large = upload_all(client, forties, "Bốn mươi MiB")
        raw_large = (
            raw_put(s3, forties) if s3 else raw_write(servers.tmp / "evidence", forties)
        )
        rate_large, raw_rate_large = 40 * large / app_large, 40 * large / raw_large
        print(
            f"{tag} upload {large} × 40 MiB: {rate_large:.1f} MiB/s "
            f"({raw_name} {raw_rate_large:.1f} MiB/s)"
        )
        del forties

        if s3:
            zip_rate, raw_rate = zip_line(tag, client, lambda: raw_read_s3(s3), "")
        else:
            root = servers.tmp / "evidence"

            def cold_read() -> tuple[float, int]:
                drop_cache(root)
                return raw_read_local(root)

            drop_cache(root)
            zip_rate, raw_rate = zip_line(tag, client, cold_read, " (from the disk)")

        share_large, share_zip = rate_large / raw_rate_large, zip_rate / raw_rate
        for text, ok in (
            (f"1 MiB uploads {rate_small:.1f} MiB/s ≥ 60 MiB/s", rate_small >= 60),
            (
                f"40 MiB uploads {share_large:.2f} of {raw_name} ≥ 0.7",
                share_large >= 0.7,
            ),
            (f"ZIP {share_zip:.2f} of raw read ≥ 0.5", share_zip >= 0.5),
            (
                f"page p50 {p50:.1f} ms ≤ 30 ms, p95 {p95 / p50:.2f} × p50 ≤ 2",
                p50 <= 30 and p95 <= 2 * p50,
            ),
            (f"page {size / 1024:.0f} KB ≤ 250 KB", size <= 250 * 1024),
        ):
            print(f"{tag} ratio {text}: {verdict(ok)}")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=5)
    args = parser.parse_args()
    for backend in ("local", "s3") if args.backend == "both" else (args.backend,):
        run(backend, args.small, args.large)


if __name__ == "__main__":
    main()
