"""One way to paginate a list page."""

from django.core.paginator import Page, Paginator

PAGE_SIZE = 25


def paginate(request, queryset, *, per_page: int = PAGE_SIZE) -> Page:
    """The requested page; a malformed or out-of-range number gives the nearest page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


SEARCH_MAX_LENGTH = 100


def search_term(request) -> str:
    """The list page's search box (`?q=`), trimmed and bounded."""
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
