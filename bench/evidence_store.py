"""Benchmark the evidence store's upload path against raw boto3, same run, same server.

Starts moto's S3 server (ThreadedMotoServer) on 127.0.0.1, then measures:

1. Throughput of raw boto3 uploads and of ``validate_upload`` + ``S3Store.put``
   (hashing, SHA-256 metadata and checksums included) for the same data:
   200 × 1 MiB and 5 × 50 MiB valid PDFs. Raw boto3 is ``put_object`` for the
   small files and ``upload_fileobj`` (default TransferConfig: 8 MiB parts,
   10 threads) for the large ones, i.e. what a developer would write. Runs
   alternate raw/store/store/raw per round, so drift in moto's speed cancels.
2. Extra memory of one 100 MiB put from a file on disk, in a child process
   (the in-process moto server holds every uploaded byte, which would swamp a
   measurement taken in this process): RSS high-water mark minus RSS before
   (Linux /proc, peak reset through clear_refs), and separately the
   tracemalloc peak of Python allocations.

Targets: store ≥ 80 % of raw boto3 throughput; a 100 MiB put adds < 50 MiB.
Usage: python bench/evidence_store.py [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name
# would shadow the package it measures.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from evidence_store import S3Store, make_client, new_key, validate_upload  # noqa: E402

MIB = 1 << 20
KEYS = {"access_key": "bench", "secret_key": "bench"}


def pdf_bytes(size: int) -> bytes:
    """A valid-looking PDF of exactly ``size`` bytes with random content."""
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def empty_bucket(client: object, bucket: str) -> None:
    """Free moto's memory between runs (outside the timed section)."""
    paginator = client.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    for page in paginator.paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])  # type: ignore[attr-defined]


def throughput(endpoint: str, rounds: int) -> list[tuple[str, float, float]]:
    client = make_client(endpoint_url=endpoint, **KEYS)
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    store = S3Store(client, bucket, create_bucket=True)
    workloads = {
        "200 × 1 MiB": [pdf_bytes(MIB) for _ in range(200)],
        "5 × 50 MiB": [pdf_bytes(50 * MIB) for _ in range(5)],
    }

    def raw(files: list[bytes]) -> None:
        for data in files:
            key = new_key("BENCH")
            if len(data) > 8 * MIB:
                client.upload_fileobj(io.BytesIO(data), bucket, key)
            else:
                client.put_object(Bucket=bucket, Key=key, Body=data)

    def with_store(files: list[bytes]) -> None:
        for data in files:
            f = io.BytesIO(data)
            upload = validate_upload(f, "Hồ sơ minh chứng.pdf")
            store.put(new_key("BENCH"), f, content_type=upload.mime_type)

    results = []
    for name, files in workloads.items():
        total = sum(len(d) for d in files)
        times: dict[str, list[float]] = {"raw": [], "store": []}
        raw(files[:2])  # warm-up: connections, botocore models
        with_store(files[:2])
        empty_bucket(client, bucket)
        for _ in range(rounds):
            for which in ("raw", "store", "store", "raw"):
                action = raw if which == "raw" else with_store
                times[which].append(timed(lambda a=action: a(files)))  # type: ignore[misc]
                empty_bucket(client, bucket)
        raw_mbs = total * len(times["raw"]) / sum(times["raw"]) / 1e6
        store_mbs = total * len(times["store"]) / sum(times["store"]) / 1e6
        spread = max(times["raw"] + times["store"]) / min(times["raw"] + times["store"])
        print(
            f"  {name}: raw {raw_mbs:6.1f} MB/s, store {store_mbs:6.1f} MB/s, "
            f"ratio {store_mbs / raw_mbs:6.1%} (runs per side: {len(times['raw'])}, "
            f"slowest/fastest run {spread:.2f}×)",
            flush=True,
        )
        results.append((name, raw_mbs, store_mbs))
    return results


def _rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _memory_child(endpoint: str, path: str, queue: multiprocessing.Queue[object]) -> None:
    client = make_client(endpoint_url=endpoint, **KEYS)
    store = S3Store(client, f"mem-{uuid.uuid4().hex[:12]}", create_bucket=True)

    def put_file() -> None:
        with open(path, "rb") as f:
            upload = validate_upload(f, "Bản quét hồ sơ 100 MB.pdf")
            store.put(new_key("BENCH"), f, content_type=upload.mime_type)

    small = io.BytesIO(pdf_bytes(9 * MIB))  # warm-up: multipart path, lazy imports
    store.put(new_key("BENCH"), small)
    put_file()
    # RSS: reset the high-water mark ("5" to clear_refs), then compare.
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")
    before = _rss_kib("VmRSS")
    put_file()
    rss_delta = (_rss_kib("VmHWM") - before) * 1024
    tracemalloc.start()
    put_file()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    queue.put((rss_delta, traced_peak))


def memory(endpoint: str) -> tuple[int, int]:
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as out:
        out.write(b"%PDF-1.7\n")
        for _ in range(100):
            out.write(os.urandom(MIB))
        out.write(b"\n%%EOF\n")
    try:
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue[object] = context.Queue()
        child = context.Process(target=_memory_child, args=(endpoint, out.name, queue))
        child.start()
        rss_delta, traced_peak = queue.get(timeout=600)  # type: ignore[misc]
        child.join()
        return int(rss_delta), int(traced_peak)
    finally:
        os.unlink(out.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="raw/store/store/raw rounds")
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    print(f"moto S3 server on {endpoint} (in-process, {os.cpu_count()} CPUs)", flush=True)
    try:
        print("Throughput (MB = 10^6 bytes):", flush=True)
        results = throughput(endpoint, args.rounds)
        print("Memory of one 100 MiB put (validate + put, child process):", flush=True)
        rss_delta, traced_peak = memory(endpoint)
    finally:
        server.stop()

    print(f"  RSS delta (VmHWM − VmRSS before): {rss_delta / MIB:6.1f} MiB")
    print(f"  tracemalloc peak (Python allocs): {traced_peak / MIB:6.1f} MiB")
    ratios = [store / raw for _name, raw, store in results]
    ok_speed = min(ratios) >= 0.80
    ok_memory = max(rss_delta, traced_peak) < 50 * MIB
    print(
        f"Targets: store ≥ 80 % of raw: {'met' if ok_speed else 'NOT met'} "
        f"(worst {min(ratios):.1%}, median {statistics.median(ratios):.1%}); "
        f"100 MiB put adds < 50 MiB: {'met' if ok_memory else 'NOT met'}"
    )
    return 0 if ok_speed and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
