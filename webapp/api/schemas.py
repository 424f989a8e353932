"""Request and response models of the API: they validate every call (SpecTree) and
are the OpenAPI document's schemas. Points are strings with two decimals ("8.50"), as
`flask criteria score` prints them; times are ISO 8601 in UTC; dates ISO (yyyy-mm-dd).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**31 - 1


class ErrorInfo(BaseModel):
    code: str = Field(description="Mã lỗi ổn định (tiếng Anh), ví dụ not_editable")
    message: str = Field(description="Thông báo tiếng Việt như trên giao diện")
    field: str | None = None
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorInfo


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=MAX_ID)
    per_page: int = Field(50, ge=1, le=200)


class AssessmentsQuery(PageQuery):
    period: int | None = Field(None, ge=1, le=MAX_ID, description="Kỳ đánh giá")


class Page(BaseModel):
    page: int
    per_page: int
    total: int


class UnitRef(BaseModel):
    id: int
    code: str
    name: str


class TokenRef(BaseModel):
    id: int
    name: str
    expires_at: datetime


class MeOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    unit: UnitRef | None
    token: TokenRef


class PeriodOut(BaseModel):
    id: int
    name: str
    year: int
    status: str
    status_label: str
    criteria_set_id: str
    opens_at: datetime
    self_deadline: datetime
    appraisal_deadline: datetime
    published_at: datetime | None
    unit_ids: list[int]


class PeriodPage(Page):
    items: list[PeriodOut]


class RuleOut(BaseModel):
    type: str
    text: str = Field(description="Cách tính điểm, bằng tiếng Việt")
    parameters: dict[str, Any]


class NodeOut(BaseModel):
    code: str
    title: str
    max_points: str
    assessed_by: str | None = None
    not_applicable: str | None = None
    evidence: list[str] = []
    rule: RuleOut | None = None
    children: list[NodeOut] = []


class CriteriaSetOut(BaseModel):
    id: str
    title: str
    evaluation_year: int
    unit_type: str
    total_max_points: str
    leaf_count: int
    areas: list[NodeOut]


class Totals(BaseModel):
    points: str
    max_points: str
    index: str | None
    band: str | None
    pending: list[str]


class AssessmentOut(BaseModel):
    id: int
    period_id: int
    unit: UnitRef
    status: str
    status_label: str
    submitted_at: datetime | None
    deadline: datetime
    totals: Totals


class AssessmentPage(Page):
    items: list[AssessmentOut]


class LeafOut(BaseModel):
    code: str
    title: str
    assessed_by: str
    rule_type: str
    max_points: str
    inputs: dict[str, Any] | None = Field(description="Câu trả lời (JSON của quy tắc)")
    not_applicable: bool
    self_score: str | None
    score_explanation: str
    explanation: str = Field(description="Thuyết minh / giải trình của đơn vị")
    evidence_ids: list[int]
    survey_value: str | None
    appraised_score: str | None
    appraiser_comment: str
    version: int = Field(description="Phiên bản dòng điểm (khóa lạc quan); 0: chưa có")
    editable: bool
    state: str


class ReturnOut(BaseModel):
    id: int
    criteria: list[str]
    message: str
    due_at: datetime
    status: str


class AssessmentDetail(AssessmentOut):
    final_totals: Totals
    leaves: list[LeafOut]
    returns: list[ReturnOut]


class AnswerIn(BaseModel):
    """One leaf's answer: ``inputs`` as the rule reads them ({"value": 92.5},
    {"numerator": 45, "denominator": 50}, {"checked": [0, 2]}, {"counts": [1, 0]}),
    ``self_score`` the chosen level of a manual rule, or ``not_applicable``."""

    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] | None = None
    self_score: int | None = Field(None, ge=0, le=1000)
    explanation: str = Field("", max_length=5000)
    not_applicable: bool = False
    version: int | None = Field(
        None, ge=0, le=MAX_ID, description="Phiên bản đã đọc; bỏ trống: ghi đè"
    )


class AnswerOut(BaseModel):
    changed: bool
    leaf: LeafOut
    totals: Totals


class EvidenceOut(BaseModel):
    id: int
    assessment_id: int
    original_filename: str
    size: int
    mime_type: str
    kind: str
    sha256: str
    doc_type: str
    doc_number: str
    issued_on: date | None
    issuer: str
    summary: str
    criteria: list[str]
    uploaded_at: datetime


class UploadForm(BaseModel):
    """multipart/form-data: the file and its citation (every field may come later)."""

    file: str = Field(json_schema_extra={"format": "binary"})
    doc_type: str = Field("", max_length=60, description="Loại văn bản (NĐ 30)")
    doc_number: str = Field("", max_length=80, description="Số/ký hiệu")
    issued_on: date | None = Field(None, description="Ngày ban hành")
    issuer: str = Field("", max_length=200, description="Cơ quan ban hành")
    summary: str = Field("", max_length=1000, description="Trích yếu")
    criteria: list[str] = Field([], description="Mã tiêu chí cần gắn (lặp lại)")


class CitationFields(BaseModel):
    """UploadForm without the file: checked once the file is in the store's stage."""

    doc_type: str = Field("", max_length=60)
    doc_number: str = Field("", max_length=80)
    issued_on: date | None = None
    issuer: str = Field("", max_length=200)
    summary: str = Field("", max_length=1000)
    criteria: list[str] = Field([], max_length=200)


class UploadOut(BaseModel):
    evidence: EvidenceOut
    warnings: list[str]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[str] = Field(min_length=1, max_length=200)


class AppraisalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # null: the appraiser agrees the case did not arise ("không phát sinh") on a leaf
    # the unit declared so and whose policy leaves it out of the maximum.
    score: Decimal | None = Field(
        ge=0, le=1000, description="Điểm thẩm định; null: đồng ý “không phát sinh”"
    )
    comment: str = Field("", max_length=5000)
    version: int | None = Field(None, ge=0, le=MAX_ID)


class AppraisalOut(BaseModel):
    assessment_status: str
    leaf: LeafOut


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[str] = Field(min_length=1, max_length=200)
    due_date: date
    message: str = Field(min_length=1, max_length=5000)


class PeriodOpened(BaseModel):
    period: PeriodOut
    assessments_created: list[str]


class ClosedEarly(BaseModel):
    period: PeriodOut
    assessment_ids: list[int]


class SurveyValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assessment_id: int = Field(ge=1, le=MAX_ID)
    code: str = Field(max_length=32)
    value: Decimal | None = Field(description="Kết quả (%), 0–100; null: xóa")


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[SurveyValue] = Field(min_length=1, max_length=10000)


class SurveyOut(BaseModel):
    changed: int


class RankingRow(BaseModel):
    rank: int | None
    unit: UnitRef
    assessment_id: int
    self_points: str
    points: str
    max_points: str
    index: str | None
    band: str | None


class RankingOut(BaseModel):
    period: PeriodOut
    rows: list[RankingRow]
    absent: list[UnitRef]


class VerifyForm(BaseModel):
    """multipart/form-data: the dossier ZIP, or the SHA-256 of its manifest.json."""

    file: str | None = Field(None, json_schema_extra={"format": "binary"})
    digest: str = Field("", max_length=64)


class VerifyOut(BaseModel):
    ok: bool
    problems: list[str]
    digest: str
    message: str
    assessment_id: int | None
    issued_at: datetime | None
