"""``python -m core_flows`` is the ``core-flows`` command."""

import sys

from core_flows.cli import main

sys.exit(main())
