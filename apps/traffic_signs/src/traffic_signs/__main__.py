"""``python -m traffic_signs`` is the ``traffic-signs`` command."""

from traffic_signs.cli import main

raise SystemExit(main())
