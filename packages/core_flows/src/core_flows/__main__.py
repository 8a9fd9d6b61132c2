"""``python -m core_flows`` is the ``core-flows`` command."""

from core_flows.cli import main

raise SystemExit(main())
