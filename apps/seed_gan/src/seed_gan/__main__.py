import sys

from seed_gan.cli import main

sys.exit(main())
