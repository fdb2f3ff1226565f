"""``python -m simreport`` runs the command line."""

from simreport.cli import entry

entry()
