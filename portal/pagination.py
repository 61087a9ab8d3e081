"""One way to paginate a list page.

Pages are numbered for the reader ("Page 3 of 40"), and Next and Previous also carry the
row they continue from (`after=` / `before=`, that row's id). A page reached through them
is read from just past that row in the list's order (keyset pagination): the database
reads the page's own rows from the index of that order, where an OFFSET would walk every
row of the pages before it first. `paginate` finds the order of a queryset ordered by
plain, non-null columns of its model ending with the primary key, e.g.
`order_by("-occurred_at", "-id")`; a list that is not a queryset declares it
(`ListPaginator(order=..., in_order=...)`). Other lists, a page number typed by hand, or
a row that has left the list fall back to the number (OFFSET).
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Exists, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.db.models.query import FlatValuesListIterable, ModelIterable
from django.utils.functional import cached_property

PAGE_SIZE = 25


class Column(NamedTuple):
    """One column of a list's order. A `nullable` one sorts its NULLs last either way,
    as `clients.models.figure_sort_key` orders the last activity."""

    name: str
    descending: bool
    nullable: bool = False


def paginate(request, queryset, *, per_page: int = PAGE_SIZE) -> Page:
    """The requested page; a malformed or out-of-range number gives the nearest page."""
    return ListPaginator(queryset, per_page).page_for(request.GET)


class ListPage(Page):
    """A page that knows the rows it starts and ends with, for its Next and Previous links
    (`after` and `before` stay None where the list's order does not allow them)."""

    def __init__(self, object_list, number, paginator, *, has_next=None, has_previous=None):
        super().__init__(object_list, number, paginator)
        self._rows = object_list  # as read: a view may replace object_list with its rows
        self._has_next, self._has_previous = has_next, has_previous

    def has_next(self) -> bool:
        return super().has_next() if self._has_next is None else self._has_next

    def has_previous(self) -> bool:
        return super().has_previous() if self._has_previous is None else self._has_previous

    def next_page_number(self) -> int:
        return super().next_page_number() if self._has_next is None else self.number + 1

    def previous_page_number(self) -> int:
        if self._has_previous is None:
            return super().previous_page_number()
        return max(self.number - 1, 1)

    @property
    def after(self):
        """The id of the page's last row: where Next continues."""
        ends = self._ends
        return ends[1] if ends else None

    @property
    def before(self):
        """The id of the page's first row: where Previous continues."""
        ends = self._ends
        return ends[0] if ends else None

    @cached_property
    def _ends(self):
        if self.paginator.order is None:
            return None
        # The rows as read once they are loaded; else the view's rows, in the same order
        # (reading the rows again would cost a query).
        loaded = getattr(self._rows, "_result_cache", self._rows)
        rows = self._rows if loaded is not None else self.object_list
        if isinstance(rows, QuerySet):
            rows = list(rows)
        if not rows:
            return None
        return _row_id(rows[0]), _row_id(rows[-1])


class ListPaginator(Paginator):
    """`object_list` counted and sliced as Django's `Paginator` does, and read from a row
    on where its order allows.

    A list that is not a queryset (one with prepared queries, say) passes its order and
    a function that builds it as an ordered queryset: `order` as `Column`s ending with a
    unique one, `in_order` called only for a page read from a row.
    """

    def __init__(self, object_list, per_page, *, order=None, in_order=None, **options):
        super().__init__(object_list, per_page, **options)
        self._order, self._in_order = order, in_order

    @cached_property
    def order(self) -> list[Column] | None:
        """The list's order, if a page can be read from a row on."""
        return self._order if self._in_order else _keyset_order(self.object_list)

    @cached_property
    def rows_in_order(self) -> QuerySet:
        return self._in_order() if self._in_order else self.object_list

    def page_for(self, params) -> ListPage:
        """The page that `params` (a request's GET or POST) ask for: `page`, and `after`
        or `before` from a Next or Previous link."""
        number = params.get("page")
        if self.order is not None:
            for direction in ("after", "before"):
                value = params.get(direction)
                if not value:
                    continue
                row_id = _row_id_param(self.rows_in_order, value)
                if row_id is not None:
                    page = self.page_from(row_id, forward=direction == "after", number=number)
                    if page is not None:
                        return page
                break
        return self.get_page(number)

    def _get_page(self, *args, **kwargs) -> ListPage:
        return ListPage(*args, **kwargs)

    def page_from(self, row_id, *, forward: bool, number) -> ListPage | None:
        """The page after (or before) the row `row_id`; None if that row is not in the
        list any more or nothing follows it."""
        in_order = self.rows_in_order
        rows = in_order.filter(_beyond(in_order, self.order, row_id, forward))
        if not forward:
            rows = rows.reverse()
        rows = list(rows[: self.per_page + 1])
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows:
            return None
        if not forward:
            rows.reverse()
        # The number is the reader's, kept within what the rows say about their place.
        last = self.num_pages
        try:
            shown = min(max(int(number), 1), last)
        except (TypeError, ValueError):
            shown = 1
        if forward:
            shown = last if not more else max(shown, 2)
        else:
            shown = 1 if not more else min(shown, max(last - 1, 1))
        return ListPage(
            rows,
            shown,
            self,
            has_next=more if forward else True,
            has_previous=True if forward else more,
        )


def _keyset_order(queryset) -> list[Column] | None:
    if not isinstance(queryset, QuerySet):
        return None
    query, meta = queryset.query, queryset.model._meta
    rows_are_ids = queryset._iterable_class is FlatValuesListIterable and query.values_select in (
        ("pk",),
        (meta.pk.name,),
    )
    if queryset._iterable_class is not ModelIterable and not rows_are_ids:
        return None  # rows whose id the links could not name
    if query.combinator or query.distinct or not query.order_by:
        return None
    order = []
    for term in query.order_by:
        if not isinstance(term, str) or "__" in term or term.lstrip("-") == "?":
            return None
        name = term.lstrip("-")
        if name == "pk":
            name = meta.pk.name
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:
            return None  # an annotation, or a column of another table
        if not field.concrete or field.null or field.is_relation:
            return None
        order.append(Column(name, term.startswith("-")))
    if order[-1].name != meta.pk.name:
        return None  # ties would make pages skip or repeat rows
    return order


def _beyond(queryset: QuerySet, order: list[Column], row_id, forward: bool) -> Q:
    """The rows after (or before) `row_id` in `order`, compared with that row's values
    read in the same query. The row must be in the list itself: another org's row (or a
    filtered-out one) is not found, and so gives no rows."""
    anchor = queryset.order_by().filter(pk=row_id)
    beyond, same = Q(), Q()
    bound = Q(Exists(anchor))
    for position, column in enumerate(order):
        name, value = column.name, Subquery(anchor.values(column.name)[:1])
        later = "gt" if column.descending != forward else "lt"
        strictly = Q(**{f"{name}__{later}": value})
        equal = Q(**{name: value})
        if column.nullable:  # NULLs last: after every value, equal to each other
            if forward:
                strictly |= Q(**{f"{name}__isnull": True}) & ~Q(IsNull(value, True))
            else:
                strictly |= Q(**{f"{name}__isnull": False}) & Q(IsNull(value, True))
            equal |= Q(**{f"{name}__isnull": True}) & Q(IsNull(value, True))
        elif position == 0:  # the first column as a range too, which the index serves
            bound &= Q(**{f"{name}__{later}e": value})
        beyond |= same & strictly
        same &= equal
    return bound & beyond


def _row_id_param(queryset, value: str):
    try:
        return queryset.model._meta.pk.to_python(value)
    except ValidationError:
        return None


def _row_id(row):
    return row if isinstance(row, UUID | int) else row.pk


SEARCH_MAX_LENGTH = 100


def search_term(request) -> str:
    """The list page's search box (`?q=`), trimmed and bounded."""
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
