"""Bridges to the tools validators already use (ValidMind, MLflow). Each module imports its
library only when called; ``import simreport`` imports none of them."""
