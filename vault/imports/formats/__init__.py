"""Import formats. Each module registers a `Format` in `REGISTRY` (see `base`)."""
