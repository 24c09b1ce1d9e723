"""Layer package: exports `assets` (asset definitions of this layer)."""

assets: list = []
