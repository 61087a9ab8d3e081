"""Running one parser over bytes, as the pipeline does (a binary stream, default limits)."""

from __future__ import annotations

import io

from vault.imports.formats.base import REGISTRY, ImportLimits, ParsedItem, RowError


def parse(key: str, data: bytes | str, limits: ImportLimits | None = None) -> list:
    if isinstance(data, str):
        data = data.encode()
    return list(REGISTRY[key].parse(io.BufferedReader(io.BytesIO(data)), limits or ImportLimits()))


def items(key: str, data, limits=None) -> list[ParsedItem]:
    parsed = parse(key, data, limits)
    assert all(isinstance(entry, ParsedItem) for entry in parsed), parsed
    return parsed


def detected(data: bytes | str) -> list[str]:
    if isinstance(data, str):
        data = data.encode()
    return [key for key, fmt in REGISTRY.items() if fmt.detect(data[: 64 * 1024])]


__all__ = ["RowError", "detected", "items", "parse"]
