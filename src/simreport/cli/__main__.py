"""``python -m simreport.cli``."""

from simreport.cli import main

main()
