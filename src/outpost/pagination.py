"""List pages in the Qboxmail shape: ``{"resources": [...], "pagination": {...}}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from outpost.errors import ValidationFailed

T = TypeVar("T")
SortKey = ColumnElement[Any] | QueryableAttribute[Any]
# A sort field orders by one column or by several (a coarse indexed one, then the exact one).
SortField = SortKey | tuple[SortKey, ...]
MAX_PER_PAGE = 500


class PageParams(BaseModel):
    """The common list query parameters."""

    page: int = Field(default=1, ge=1)
    per: int = Field(default=25, ge=1, le=MAX_PER_PAGE)
    query: str | None = None
    status: str | None = None
    sort_field: str | None = None
    sort: Literal["asc", "desc", "none"] | None = None


class Pagination(BaseModel):
    """Where a page sits in the whole result and which parameters produced it."""

    per: int
    page: int
    total_pages: int
    total_records: int
    query: str | None = None
    filter: dict[str, Any] | None = None
    status: str | None = None
    sort_field: str | None = None
    sort: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and its pagination block."""

    items: Sequence[T]
    pagination: Pagination


def paginate(
    session: Session,
    statement: Select[Any],
    params: PageParams,
    *,
    sortable: Mapping[str, SortField],
    default_sort: Sequence[ColumnElement[Any]],
    tiebreak: SortKey,
    filters: dict[str, Any] | None = None,
) -> Page[Any]:
    """Count, sort and slice ``statement`` (a select of one entity) for ``params``."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    total = int(total or 0)
    order: list[Any]
    if params.sort_field:
        field = sortable.get(params.sort_field)
        if field is None:
            raise ValidationFailed.one(
                "sort_field", f"must be one of: {', '.join(sorted(sortable))}"
            )
        # The tiebreak goes the same way, so one index serves both directions.
        columns = [*field, tiebreak] if isinstance(field, tuple) else [field, tiebreak]
        order = [c.desc() if params.sort == "desc" else c.asc() for c in columns]
    else:
        order = [*default_sort, tiebreak.asc()]
    rows = session.scalars(
        statement.order_by(*order).limit(params.per).offset((params.page - 1) * params.per)
    ).all()
    return Page(
        items=rows,
        pagination=Pagination(
            per=params.per,
            page=params.page,
            total_pages=-(-total // params.per),
            total_records=total,
            query=params.query,
            filter=filters or None,
            status=params.status,
            sort_field=params.sort_field,
            sort=params.sort,
        ),
    )
