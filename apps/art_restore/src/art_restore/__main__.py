"""``python -m art_restore`` is the ``art-restore`` command."""

from art_restore.cli import main

raise SystemExit(main())
