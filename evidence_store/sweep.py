"""Consistency sweep between the database's evidence rows and the store.

Pure functions over an :class:`~evidence_store.EvidenceStore`: the caller
(``flask evidence sweep``) reads the referenced keys and hashes from the
database and decides what to do with the report.

Every way bytes can outlive a failed upload ends here: an object whose row was
never committed (an orphan), and a put that never finished (a local
``.tmp-*.part`` file or an S3 multipart upload, left by a killed worker or by
an outage that also defeated the put's own clean-up).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .core import (
    EvidenceStore,
    IncompleteUpload,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    """What a sweep found.

    * ``orphans``: stored objects no row references, older than the grace
      period (an upload stores the object before committing its row, so a
      failed commit leaves one; recent ones may still be committing).
    * ``incomplete``: puts that never finished, older than the grace period.
    * ``missing``: referenced keys with no stored object.
    * ``corrupted``: referenced objects whose SHA-256 no longer matches.
    * ``recent`` and ``recent_incomplete``: the same as the first two but
      younger than the grace period: not acted on (an upload may be under way),
      only reported, so an operator sees what the grace hides.
    """

    orphans: list[ObjectInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    incomplete: list[IncompleteUpload] = field(default_factory=list)
    recent: list[ObjectInfo] = field(default_factory=list)
    recent_incomplete: list[IncompleteUpload] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing needs attention (recent leftovers do not count)."""
        return not (self.orphans or self.missing or self.corrupted or self.incomplete)


@dataclass(frozen=True)
class CleanResult:
    """What :func:`clean` removed."""

    orphans: int = 0
    incomplete: int = 0


def find_problems(
    store: EvidenceStore,
    referenced: Mapping[str, str],
    *,
    grace: timedelta,
    now: datetime,
    check_hashes: bool = True,
) -> SweepReport:
    """Compare the store with ``referenced`` (key → hex SHA-256 from the DB).

    Lists the whole store and its unfinished puts once; with ``check_hashes``
    every referenced object is also re-read and re-hashed (slow on large
    stores: schedule it, or pass ``False`` for a quick pass). ``now`` must be
    timezone-aware; an object is an orphan only if unreferenced and last
    modified before ``now - grace``, an unfinished put only if started before.
    Raises :class:`~evidence_store.StorageError` when the store cannot be read.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cutoff = now - grace
    orphans: list[ObjectInfo] = []
    recent: list[ObjectInfo] = []
    seen: set[str] = set()
    for info in store.list(""):
        seen.add(info.key)
        if info.key not in referenced:
            (orphans if info.last_modified < cutoff else recent).append(info)
    incomplete: list[IncompleteUpload] = []
    recent_incomplete: list[IncompleteUpload] = []
    for upload in store.incomplete():
        (incomplete if upload.started < cutoff else recent_incomplete).append(upload)
    missing = sorted(key for key in referenced if key not in seen)
    corrupted: list[str] = []
    if check_hashes:
        for key in sorted(seen.intersection(referenced)):
            try:
                if not store.verify(key, referenced[key]):
                    corrupted.append(key)
            except ObjectNotFound:
                missing.append(key)  # deleted between listing and reading
        missing.sort()
    return SweepReport(
        orphans=orphans,
        missing=missing,
        corrupted=corrupted,
        incomplete=incomplete,
        recent=recent,
        recent_incomplete=recent_incomplete,
    )


def delete_orphans(store: EvidenceStore, report: SweepReport) -> int:
    """Delete the report's orphans; return how many were deleted.

    Objects whose key the store would never have generated (put there by
    something else) are logged and left for an operator.
    """
    deleted = 0
    for info in report.orphans:
        try:
            store.delete(info.key)
        except InvalidKey:
            logger.warning("orphan %r has a foreign key; left in place", info.key)
            continue
        logger.info("orphan evidence object %s deleted (%d bytes)", info.key, info.size)
        deleted += 1
    return deleted


def clean(store: EvidenceStore, report: SweepReport) -> CleanResult:
    """Delete the report's orphans and discard its unfinished puts (never the
    recent ones, never a referenced object)."""
    for upload in report.incomplete:
        store.discard(upload)
        logger.info("unfinished upload %s (%s) discarded", upload.ref, upload.key)
    return CleanResult(
        orphans=delete_orphans(store, report), incomplete=len(report.incomplete)
    )
