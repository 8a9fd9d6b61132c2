import sys

from affine_sr.cli import main

sys.exit(main())
