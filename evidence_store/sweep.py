"""Consistency sweep between the database's evidence rows and the store.

Pure functions over an :class:`~evidence_store.EvidenceStore`: the caller
(``flask evidence sweep``) reads the referenced keys and hashes from the
database and decides what to do with the report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .core import EvidenceStore, InvalidKey, ObjectInfo, ObjectNotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    """What a sweep found.

    * ``orphans``: stored objects no row references, older than the grace
      period (an upload stores the object before committing its row, so a
      failed commit leaves one; recent ones may still be committing).
    * ``missing``: referenced keys with no stored object.
    * ``corrupted``: referenced objects whose SHA-256 no longer matches.
    """

    orphans: list[ObjectInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing needs attention."""
        return not (self.orphans or self.missing or self.corrupted)


def find_problems(
    store: EvidenceStore,
    referenced: Mapping[str, str],
    *,
    grace: timedelta,
    now: datetime,
    check_hashes: bool = True,
) -> SweepReport:
    """Compare the store with ``referenced`` (key → hex SHA-256 from the DB).

    Lists the whole store once; with ``check_hashes`` every referenced object
    is also re-read and re-hashed (slow on large stores: schedule it, or pass
    ``False`` for a quick orphan/missing pass). ``now`` must be
    timezone-aware; an object is an orphan only if unreferenced and last
    modified before ``now - grace``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cutoff = now - grace
    orphans: list[ObjectInfo] = []
    seen: set[str] = set()
    for info in store.list(""):
        seen.add(info.key)
        if info.key not in referenced and info.last_modified < cutoff:
            orphans.append(info)
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
    return SweepReport(orphans=orphans, missing=missing, corrupted=corrupted)


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
