import sys

from art_restore.cli import main

sys.exit(main())
