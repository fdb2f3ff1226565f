"""simreport's version (a leaf, so every layer may name it)."""

__version__ = "0.1.2"
