"""Benchmark the citation pre-fill on the documents that sank a worker before the bound.

Cases (generated here, with the test suite's generators): a small NĐ 30 PDF and DOCX,
a 6 MB DOCX (12 MB of document XML) and a 16 KB PDF whose page inflates to 10 MB.
For each, in a fresh process so that nothing else counts:

* bounded: `webapp.evidence.prefill.bounded_proposal` as the upload runs it: wall time,
  the worker's own RSS growth (high-water mark reset through clear_refs, Linux), and
  whether a proposal came out; then the reader child alone, for its whole peak RSS
  (interpreter included);
* unbounded (the heavy cases, for comparison): what the pre-fill did before, python-docx
  `Document()` or pypdf `extract_text()` in the worker, stopped after 60 s.

Target: any accepted file's pre-fill under 1 s and 50 MB.
Usage: python bench/prefill.py
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration")]

HEADER = [
    ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("PHƯỜNG TRÚC LÂM", "Độc lập - Tự do - Hạnh phúc"),
    ("Số: 125/KH-UBND", "Trúc Lâm, ngày 05 tháng 01 năm 2026"),
]
BODY = ["KẾ HOẠCH", "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026"]
PDF_LINES = [f"{left} {right}" for left, right in HEADER] + BODY
CASES = ("pdf", "docx", "docx-6mb", "pdf-16kb-inflating")
HEAVY = ("docx-6mb", "pdf-16kb-inflating")


def document(case: str) -> tuple[str, bytes]:
    from conftest import EvidenceFiles

    if case == "pdf":
        return "pdf", EvidenceFiles.pdf(PDF_LINES)
    if case == "docx":
        return "docx", EvidenceFiles.docx(HEADER, BODY)
    if case == "docx-6mb":
        return "docx", EvidenceFiles.docx(HEADER, BODY, filler_bytes=6_000_000)
    return "pdf", EvidenceFiles.pdf(PDF_LINES, filler_ops=1_500_000)


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _child_peak_kib(kind: str, data: bytes) -> int | None:
    # The reader reports its own high-water mark: RUSAGE_CHILDREN would count the
    # worker's pages the child shared before exec.
    from webapp.evidence import textread

    done = subprocess.run(
        [sys.executable, "-I", textread.__file__, kind],
        input=data,
        capture_output=True,
        timeout=30,
    )
    peak = json.loads(done.stdout or b"{}").get("peak_rss_kib")
    return int(peak) if peak else None


def measure(case: str, unbounded: bool) -> dict[str, object]:
    kind, data = document(case)
    source = io.BytesIO(data)
    if not unbounded:
        from webapp.evidence.prefill import bounded_proposal

    Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
    before = _rss_kib("VmRSS")
    start = time.perf_counter()
    if unbounded:
        if kind == "docx":
            from docx import Document

            found = bool("".join(p.text for p in Document(source).paragraphs))
        else:
            from pypdf import PdfReader

            pages = PdfReader(source).pages[:2]
            found = bool("".join(page.extract_text() for page in pages))
    else:
        found = bool(bounded_proposal(source, kind, timeout=1.0))
    seconds = time.perf_counter() - start
    worker = (_rss_kib("VmHWM") - before) / 1024
    child = None if unbounded else _child_peak_kib(kind, data)
    return {
        "case": case,
        "bytes": len(data),
        "seconds": round(seconds, 3),
        "worker_mib": round(worker, 1),
        "child_peak_mib": round(child / 1024, 1) if child else None,
        "proposal": found,
    }


def run(case: str, unbounded: bool) -> dict[str, object]:
    args = [sys.executable, __file__, "--one", case] + (
        ["--unbounded"] if unbounded else []
    )
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"case": case, "seconds": "> 60 (stopped)"}
    if done.returncode != 0:
        return {"case": case, "error": done.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(done.stdout))


def main() -> None:
    if "--one" in sys.argv:
        case = sys.argv[sys.argv.index("--one") + 1]
        print(json.dumps(measure(case, "--unbounded" in sys.argv)))
        return
    print("Citation pre-fill (target: < 1 s and < 50 MB for any accepted file)")
    print(f"{'case':<22}{'size':>10}{'time s':>10}{'worker MiB':>12}"
          f"{'child MiB':>11}  proposal")  # fmt: skip
    for unbounded in (False, True):
        print("bounded (now):" if not unbounded else "unbounded (before):")
        for case in HEAVY if unbounded else CASES:
            r = run(case, unbounded)
            if "error" in r or "bytes" not in r:
                print(f"  {case:<20}{r}")
                continue
            child = r["child_peak_mib"] if r["child_peak_mib"] is not None else "-"
            print(f"  {case:<20}{r['bytes']:>10}{r['seconds']:>10}{r['worker_mib']:>12}"
                  f"{child:>11}  {'yes' if r['proposal'] else 'no'}")  # fmt: skip


if __name__ == "__main__":
    main()
