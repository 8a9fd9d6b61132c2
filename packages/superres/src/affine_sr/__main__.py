"""``python -m affine_sr`` is the ``affine-sr`` command."""

from affine_sr.cli import main

raise SystemExit(main())
