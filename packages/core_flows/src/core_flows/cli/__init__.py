"""``core-flows``: one command with subcommands; each subcommand module has add_parser() and run()."""

from app_toolkit.cli import make_main
from core_flows import __version__
from core_flows.cli import bench, evaluate, info, interpolate, sample, train

__all__ = ["main"]

main = make_main(
    "core-flows",
    "Normalizing flows with exactly invertible k×k convolutions (CInC, FInC, "
    "Inverse-Flow): train, sample, evaluate and benchmark them.",
    __version__,
    (train, sample, evaluate, interpolate, info, bench),
)
