"""The dossier as plain data: what the score table, report and ZIP are built from.

Built by :func:`webapp.dossier.contents.build_dossier` from the database (or from the
submitted snapshot); builders only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

RowKind = Literal["area", "criterion", "leaf"]

# The official score-table columns, shared by the XLSX sheet and the DOCX annex.
SCORE_TABLE_HEADERS = (
    "STT",
    "Lĩnh vực / Tiêu chí / Tiêu chí thành phần",
    "Điểm tối đa",
    "Điểm tự đánh giá",
    "Tài liệu kiểm chứng (số/ký hiệu, ngày, cơ quan ban hành, trích yếu)",
    "Giải trình / Ghi chú",
    "Điểm thẩm định",
    "Ý kiến thẩm định",
)


# The report's sections the unit writes (key, heading), in the order they are printed.
REPORT_SECTIONS = (
    ("ton_tai", "Tồn tại, hạn chế"),
    ("nguyen_nhan", "Nguyên nhân của tồn tại, hạn chế"),
    ("kho_khan", "Khó khăn, vướng mắc"),
    ("giai_phap", "Giải pháp, nhiệm vụ trọng tâm năm tiếp theo"),
    ("kien_nghi", "Kiến nghị, đề xuất"),
)
SECTION_KEYS = tuple(key for key, _ in REPORT_SECTIONS)

# What Nơi nhận says when the unit has not set its own list.
DEFAULT_RECIPIENTS = {
    "xa_phuong": (
        "- Như trên;",
        "- TT Đảng ủy, HĐND phường;",
        "- Chủ tịch, các PCT UBND phường;",
        "- Lưu: VT, VHXH.",
    ),
    "so_ban_nganh": ("- Như trên;", "- Lãnh đạo đơn vị;", "- Lưu: VT, VP."),
}


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """A PDF's digital signature as validated (webapp.signatures)."""

    signed: bool
    intact: bool = False  # the signed bytes are unchanged and the signature verifies
    modified_after: bool = False  # bytes were added after signing (not a new revision)
    signer: str = ""
    issuer: str = ""
    signed_at: datetime | None = None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One proof document as exported: where its bytes are, their hash, its citation."""

    id: int
    storage_key: str
    sha256: str  # as recorded at upload, or in the submitted snapshot
    size: int
    original_filename: str
    crc32: int | None = None  # known for files uploaded since it was recorded
    mime_type: str = "application/octet-stream"
    kind: str = ""
    doc_type: str = ""  # loại văn bản
    doc_number: str = ""  # số/ký hiệu
    issued_on: date | None = None  # ngày ban hành
    issuer: str = ""  # cơ quan ban hành
    summary: str = ""  # trích yếu
    location: str = ""  # where in the document the proof sits (mục/trang)
    codes: tuple[str, ...] = ()  # the leaves it proves, in criteria order
    uploaded_by: str = ""
    uploaded_at: datetime | None = None

    @property
    def is_cited(self) -> bool:
        """Tell whether the citation has what NĐ 30 asks: số/ký hiệu, ngày, cơ quan."""
        return bool(self.doc_number.strip() and self.issued_on and self.issuer.strip())


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the score table: an area, a criterion or a leaf (document order)."""

    kind: RowKind
    code: str
    title: str
    depth: int
    max_points: Decimal  # nominal maximum of the criteria set
    self_points: Decimal | None  # None: not counted (pending survey, not applicable)
    is_leaf: bool
    status: str = (
        ""  # leaf status from the engine: scored/unanswered/not_applicable/pending
    )
    assessed_by: str = ""
    explanation: str = ""  # the engine's one-line "how the points were reached"
    note: str = ""  # the unit's thuyết minh / giải trình
    expected_evidence: tuple[str, ...] = ()
    evidence: tuple[EvidenceFile, ...] = ()
    appraised_points: Decimal | None = None
    appraiser_comment: str = ""
    index: Decimal | None = None  # component index of an area/criterion (self-score)
    counted_max: Decimal | None = None  # maximum counted in the self-score (engine's)

    @property
    def exempt_from_evidence(self) -> bool:
        """Survey, system-extract and "không phát sinh" leaves bring no unit proof."""
        return self.assessed_by in ("survey", "system") or self.status in (
            "not_applicable",
            "pending",
        )

    @property
    def survey_in(self) -> bool:
        """A survey leaf (never self-scored) whose result is in the final score."""
        return self.status == "pending" and self.appraised_points is not None

    @property
    def needs_explanation(self) -> bool:
        """A self-scored leaf expecting proof with none, or proof lacking citation."""
        if not self.is_leaf or self.exempt_from_evidence:
            return False
        if not self.expected_evidence:
            return False
        return not self.evidence or not all(e.is_cited for e in self.evidence)

    @property
    def missing_evidence(self) -> bool:
        """A leaf that expects evidence (not a survey leaf) but has no file at all."""
        return (
            self.is_leaf
            and not self.exempt_from_evidence
            and bool(self.expected_evidence)
            and not self.evidence
        )


@dataclass(frozen=True, slots=True)
class Totals:
    """Points, applicable maximum, index (%) and classification band of one scoring."""

    points: Decimal
    max_points: Decimal
    index: Decimal | None
    band: str | None
    pending: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """The unit as the report names it (NĐ 30 header, place/date line, signature)."""

    code: str
    name: str  # "Phường Trúc Lâm"
    kind: str  # "xa_phuong" | "so_ban_nganh"
    parent_body: str = ""  # cơ quan chủ quản (sở/ban/ngành: "UBND TỈNH THANH HÓA")
    place_name: str = ""  # "Trúc Lâm"
    leader_name: str = ""
    leader_title: str = "CHỦ TỊCH"
    report_number: str = ""  # "31", or a full "31/BC-UBND"
    signer_authority: str = ""  # "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"; "": usual
    recipients: tuple[str, ...] = ()  # Nơi nhận lines; (): the defaults


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything the three exported files say about one assessment."""

    assessment_id: int
    unit: UnitInfo
    period_name: str
    year: int
    criteria_set_id: str
    criteria_set_title: str
    status: str
    status_label: str
    submitted_at: datetime | None
    from_snapshot: bool  # True: answers, self-scores and evidence as submitted
    exported_at: datetime  # aware; shown in Asia/Ho_Chi_Minh
    report_date: date  # the date written on the report
    rows: tuple[Row, ...]
    self_totals: Totals
    appraised_totals: Totals | None = None  # set once the assessment is appraised
    exported_by: str = ""
    evidence: tuple[EvidenceFile, ...] = field(default=())
    # The PAR plan's results table (kết quả thực hiện nhiệm vụ), a second annex.
    plan_rows: tuple[tuple[str, ...], ...] = field(default=())
    recipient: str = "Sở Nội vụ"  # Kính gửi (per period)
    bases: tuple[str, ...] = ()  # căn cứ, one document each (per period)
    sections: dict[str, str] = field(default_factory=dict)  # SECTION_KEYS -> text
    narratives: dict[str, str] = field(default_factory=dict)  # area code -> text
    signed_report: SignatureInfo | None = None

    def leaves(self) -> list[Row]:
        """Return the leaf rows in document order."""
        return [r for r in self.rows if r.is_leaf]

    def areas(self) -> list[Row]:
        """Return the area rows in document order."""
        return [r for r in self.rows if r.kind == "area"]
