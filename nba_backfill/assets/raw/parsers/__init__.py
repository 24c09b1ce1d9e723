"""Pure parsers: landed JSON of one date -> typed rows (one module per endpoint family)."""
