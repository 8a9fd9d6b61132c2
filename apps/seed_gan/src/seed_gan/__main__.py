"""``python -m seed_gan`` is the ``seed-gan`` command."""

from seed_gan.cli import main

raise SystemExit(main())
