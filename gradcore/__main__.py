"""Entry point for `python -m gradcore`: hands over to the command line in cli.py."""

from .cli import main

raise SystemExit(main())
