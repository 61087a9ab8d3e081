"""Links for the rows of a list page, reversed once per page.

`{% url %}` in a loop of 25 rows reverses 25 times the address of one view whose
addresses differ only by the row's id; reversing it once with a placeholder id and
putting each row's id in its place gives the same addresses (UUIDs need no quoting).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.urls import reverse

_PLACEHOLDER = str(UUID(int=0))


def url_for_each(view_name: str, *args) -> Callable[[object], str]:
    """`reverse(view_name, args=[*args, pk])` as a function of `pk`."""
    head, _placeholder, tail = reverse(view_name, args=[*args, _PLACEHOLDER]).rpartition(
        _PLACEHOLDER
    )
    return lambda pk: f"{head}{pk}{tail}"
