"""Options several subcommands take."""

import argparse

from core_flows.cli.common import COMMON

__all__ = ["COMMON", "DEVICE"]

DEVICE = argparse.ArgumentParser(add_help=False)
DEVICE.add_argument(
    "--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)"
)
