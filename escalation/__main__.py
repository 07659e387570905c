"""``python -m escalation`` runs the command line."""

from escalation.console import main

main()
