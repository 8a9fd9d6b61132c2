import sys

from traffic_signs.cli import main

sys.exit(main())
