"""Building vault URLs and form posts in tests."""

from __future__ import annotations

from django.urls import reverse


def vault_url(name: str, org, item=None, **kwargs) -> str:
    kwargs["org_id"] = org.pk
    if item is not None:
        kwargs["item_id"] = getattr(item, "pk", item)
    return reverse(f"vault_{name}", kwargs=kwargs)


def form_post(
    item_type: str,
    *,
    collections=(),
    uris: list[tuple[str, str]] | None = None,
    custom: list[dict] | None = None,
    initial_custom: int = 0,
    revision: int | None = None,
    **fields,
) -> dict:
    """A create/edit POST with the row sets' management forms filled in."""
    data = {"item_type": item_type, "collections": [str(c.pk) for c in collections], **fields}
    if revision is not None:
        data["revision"] = str(revision)
    custom = custom or []
    data.update(_management("custom", len(custom), initial_custom))
    for index, row in enumerate(custom):
        for key, value in row.items():
            data[f"custom-{index}-{key}"] = value
    if item_type == "login":
        uris = uris or []
        data.update(_management("uris", len(uris), 0))
        for index, (uri, match) in enumerate(uris):
            data[f"uris-{index}-uri"] = uri
            data[f"uris-{index}-match"] = match
    return data


def _management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
