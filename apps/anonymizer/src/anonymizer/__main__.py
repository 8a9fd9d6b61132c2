"""``python -m anonymizer`` is the ``anonymize`` command."""

from anonymizer.cli import main

raise SystemExit(main())
