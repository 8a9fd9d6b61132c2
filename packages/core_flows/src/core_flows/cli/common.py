"""Options every subcommand takes."""

import argparse

COMMON = argparse.ArgumentParser(add_help=False)
COMMON.add_argument("-q", "--quiet", action="store_true", help="only print results and errors")
