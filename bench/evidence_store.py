"""Benchmark the evidence store's upload path against raw boto3, same run, same server.

Starts moto's S3 server (ThreadedMotoServer) on 127.0.0.1, then measures:

1. Throughput of raw boto3 uploads and of ``validate_upload`` + ``S3Store.put``
   (hashing, SHA-256 metadata and checksums included) for the same data:
   200 × 1 MiB and 5 × 50 MiB valid PDFs. Raw boto3 is ``put_object`` for the
   small files and ``upload_fileobj`` (default TransferConfig: 8 MiB parts,
   10 threads) for the large ones, i.e. what a developer would write. Raw and
   store alternate file by file, so drift in moto's speed (2× between
   identical runs on a busy machine) hits both sides alike.
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

    def raw(data: bytes) -> None:
        key = new_key("BENCH")
        if len(data) > 8 * MIB:
            client.upload_fileobj(io.BytesIO(data), bucket, key)
        else:
            client.put_object(Bucket=bucket, Key=key, Body=data)

    def with_store(data: bytes) -> None:
        f = io.BytesIO(data)
        upload = validate_upload(f, "Hồ sơ minh chứng.pdf")
        store.put(new_key("BENCH"), f, content_type=upload.mime_type)

    results = []
    for name, files in workloads.items():
        total = sum(len(d) for d in files) * rounds
        spent = {"raw": 0.0, "store": 0.0}
        for data in files[:2]:  # warm-up: connections, botocore models
            raw(data)
            with_store(data)
        empty_bucket(client, bucket)
        turn = 0
        for _ in range(rounds):
            for data in files:
                # File by file, alternating who goes first: both sides meet
                # the same server state, so moto's drift cancels out.
                order = (raw, with_store) if turn % 2 == 0 else (with_store, raw)
                for action in order:
                    started = time.perf_counter()
                    action(data)
                    spent["raw" if action is raw else "store"] += (
                        time.perf_counter() - started
                    )
                turn += 1
                if len(data) > 8 * MIB or turn % 50 == 0:
                    empty_bucket(client, bucket)
            empty_bucket(client, bucket)
        raw_mbs = total / spent["raw"] / 1e6
        store_mbs = total / spent["store"] / 1e6
        print(
            f"  {name} × {rounds} rounds: raw {raw_mbs:6.1f} MB/s, "
            f"store {store_mbs:6.1f} MB/s, ratio {store_mbs / raw_mbs:6.1%}",
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


def _memory_child(
    endpoint: str, path: str, queue: multiprocessing.Queue[object]
) -> None:
    client = make_client(endpoint_url=endpoint, **KEYS)
    store = S3Store(client, f"mem-{uuid.uuid4().hex[:12]}", create_bucket=True)

    def put_file() -> None:
        with open(path, "rb") as f:
            upload = validate_upload(f, "Bản quét hồ sơ 100 MB.pdf")
            store.put(new_key("BENCH"), f, content_type=upload.mime_type)

    # Warm-up on a 9 MiB file (multipart path, lazy imports, botocore models),
    # not on the big one: glibc would then reuse its pages and hide the cost.
    small = io.BytesIO(pdf_bytes(9 * MIB))
    store.put(
        new_key("BENCH"), small, content_type=validate_upload(small, "a.pdf").mime_type
    )
    del small
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
    # Exactly 100 MiB, the default upload limit, written in pieces so that
    # the parent never holds it either.
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as out:
        out.write(head)
        remaining = 100 * MIB - len(head) - len(tail)
        while remaining:
            piece = min(remaining, MIB)
            out.write(os.urandom(piece))
            remaining -= piece
        out.write(tail)
    try:
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue[object] = context.Queue()
        child = context.Process(target=_memory_child, args=(endpoint, out.name, queue))
        child.start()
        while True:
            try:
                rss_delta, traced_peak = queue.get(timeout=1)  # type: ignore[misc]
                break
            except Exception:  # queue.Empty
                if not child.is_alive():
                    raise RuntimeError(
                        "the memory measurement process failed"
                    ) from None
        child.join()
        return int(rss_delta), int(traced_peak)
    finally:
        os.unlink(out.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=3, help="passes over each workload"
    )
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    print(
        f"moto S3 server on {endpoint} (in-process, {os.cpu_count()} CPUs)", flush=True
    )
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
