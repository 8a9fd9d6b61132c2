"""The skeleton every command of the monorepo shares: one command with subcommands, the shared
options declared once, an ``env`` subcommand for bug reports, and one-line errors.

Each subcommand is a module with ``add_parser(subparsers)``, which sets ``run(args) -> int`` as the
subcommand's default; a package's ``cli/__init__.py`` only lists them::

    main = make_main("geomap", "Unsupervised geological mapping ...", __version__,
                     (run, synth, bench), env_packages=("rasterio", "scikit-learn"))
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

from app_toolkit.thirdparty import private_state_dirs

__all__ = [
    "COMMON",
    "DEVICE",
    "FLOAT_RANGES",
    "INT_RANGES",
    "add_device_option",
    "build_parser",
    "bounded",
    "make_main",
    "print_fields",
    "run_command",
]

COMMON = argparse.ArgumentParser(add_help=False)
COMMON.add_argument("-q", "--quiet", action="store_true", help="only print results and errors")
COMMON.add_argument(
    "-v",
    "--verbose",
    action="store_true",
    help="also show other libraries' log lines and warnings, and debug details",
)


def add_device_option(container: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--device auto|cpu|cuda|cuda:N`` (see :func:`app_toolkit.devices.resolve_device`) on a
    parser or an argument group."""
    container.add_argument(
        "--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)"
    )


DEVICE = argparse.ArgumentParser(add_help=False)
add_device_option(DEVICE)


def bounded(
    kind: type,
    low: float | None = None,
    high: float | None = None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> Callable:
    """An argparse ``type`` for ``int`` or ``float`` options within ``[low, high]`` (either end
    unbounded when None, excluded with ``open_low`` / ``open_high``); floats must be finite.
    Bad values end in argparse's one-line usage error."""
    if kind not in (int, float):
        raise ValueError(f"kind must be int or float, got {kind!r}")
    span = (
        f"{'(' if open_low or low is None else '['}{'-inf' if low is None else low}, "
        f"{'inf' if high is None else high}{')' if open_high or high is None else ']'}"
    )

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        below = low is not None and (value <= low if open_low else value < low)
        above = high is not None and (value >= high if open_high else value > high)
        if below or above:
            raise argparse.ArgumentTypeError(f"must be in {span}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _interval(text: str) -> dict:
    """``"[0, 1)"`` → the keyword arguments of :func:`bounded` (``inf`` for no bound)."""
    left, right = text.strip()[0], text.strip()[-1]
    low, high = (v.strip() for v in text.strip()[1:-1].split(","))
    return {
        "low": None if low == "-inf" else float(low),
        "high": None if high == "inf" else float(high),
        "open_low": left == "(",
        "open_high": right == ")",
    }


# Ranges of the integer options that size or count work, by option name, for every command: a
# typo (--imgsz 100000, --mix 100000000) fails at once instead of running out of memory or time.
INT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "batch": (1, 4096),
    "batch_size": (1, 4096),
    "count": (1, 100_000),
    "crop": (8, 4096),
    "epochs": (1, 100_000),
    "imgsz": (32, 4096),
    "mix": (0, 1000),
    "overlap": (0, 1024),
    "save_every": (1, None),
    "scale": (1, 16),
    "steps": (1, 10_000_000),
    "stride": (1, 100_000),
    "tile": (0, 8192),
    "workers": (1, 256),
}


# Ranges of the float options whose values have a meaning only there (probabilities, fractions,
# decays, rates), by option name, for every command.
FLOAT_RANGES: dict[str, str] = {
    "alert_threshold": "(0, 1)",
    "clean": "[0, 1]",
    "clouds": "[0, 1)",
    "conf": "(0, 1)",
    "ema_decay": "[0, 1)",
    "face_grow": "(-0.5, inf)",
    "face_threshold": "(0, 1)",
    "fidelity": "[0, 1]",
    "grad_clip": "(0, inf)",
    "guidance": "[0, inf)",
    "level": "(0, 1)",
    "logit_alpha": "[0, 0.5)",
    "min_confidence": "[0, 1]",
    "noise": "[0, inf)",
    "pixel_size": "(0, inf)",
    "plate_grow": "(-0.5, inf)",
    "plate_max_width": "(0, 1]",
    "plate_threshold": "(0, 1)",
    "resolution": "(0, inf)",
    "review_below": "[0, 1]",
    "sample_temperature": "[0, inf)",
    "severity": "(0, 1]",
    "temperature": "[0, inf)",
    "budget": "[0, inf)",
    **{name: "(0, 1)" for name in ("lr", "ae_lr", "prior_lr", "refiner_lr")},
}


def _guard_numbers(parser: argparse.ArgumentParser) -> None:
    """Every plain ``type=float`` option of ``parser`` and its subcommands refuses NaN and
    infinities (no option value can silently turn a model into NaNs); those named in
    :data:`FLOAT_RANGES` and the integer options named in :data:`INT_RANGES` are range-checked;
    all at parse time."""
    for action in parser._actions:
        if action.type is float:
            action.type = bounded(float, **_interval(FLOAT_RANGES.get(action.dest, "(-inf, inf)")))
        elif action.type is int and action.dest in INT_RANGES:
            action.type = bounded(int, *INT_RANGES[action.dest])
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _guard_numbers(subparser)


def build_parser(
    prog: str,
    description: str,
    package_version: str,
    subcommands: Sequence[ModuleType],
    env_packages: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """The command ``prog`` with ``--version``, the ``subcommands`` and an ``env`` subcommand that
    reports the installed versions of ``env_packages`` (distribution names)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"{prog} {package_version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in subcommands:
        module.add_parser(sub)
    env = sub.add_parser(
        "env",
        parents=[COMMON],
        help="print versions and devices for bug reports",
        description="Print versions, machine and devices for bug reports.",
    )
    env.set_defaults(run=partial(_run_env, prog, package_version, tuple(env_packages)))
    _guard_numbers(parser)
    return parser


def _setup_output(own: set[str], quiet: bool, verbose: bool) -> None:
    """Our loggers (``own`` packages) print INFO lines (WARNING with ``--quiet``); other
    libraries' log lines below ERROR and Python warnings stay silent unless ``--verbose``."""
    logging.basicConfig(format="%(message)s")
    logging.getLogger().setLevel(logging.DEBUG if verbose else logging.ERROR)
    for name in own:
        logging.getLogger(name).setLevel(
            logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
        )
    if verbose:
        warnings.simplefilter("default")
    else:
        warnings.simplefilter("ignore")
        os.environ.setdefault("PYTHONWARNINGS", "ignore")  # worker processes too


def run_command(
    parser: argparse.ArgumentParser, argv: list[str] | None = None, own: Sequence[str] = ()
) -> int:
    """Parse, set up the output (the loggers of the ``own`` packages and app_toolkit print INFO
    lines, ``--quiet`` keeps their warnings only, ``--verbose`` shows other libraries' lines and
    warnings too) and run the subcommand. Bad input (``ValueError``) exits 2, a failure
    (``OSError``, ``RuntimeError``, ``ImportError`` of an optional dependency) 1 and Ctrl-C 130,
    each with one line on stderr and no traceback."""
    args = parser.parse_args(argv)
    _setup_output(
        {"app_toolkit", *own}, getattr(args, "quiet", False), getattr(args, "verbose", False)
    )
    try:
        return args.run(args) or 0
    except ValueError as err:
        print(f"{parser.prog} {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError, ImportError) as err:
        print(f"{parser.prog} {args.command}: failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"{parser.prog} {args.command}: interrupted; finished outputs are kept, "
            "rerun the same command to resume",
            file=sys.stderr,
        )
        return 130


def make_main(
    prog: str,
    description: str,
    package_version: str,
    subcommands: Sequence[ModuleType],
    env_packages: Sequence[str] = (),
    setup: Callable[[], None] | None = None,
    log_packages: Sequence[str] = (),
) -> Callable[[list[str] | None], int]:
    """The console-script entry point ``main(argv=None) -> exit code`` of one command (see
    :func:`build_parser`); ``setup`` runs first (silencing a library's own logging, say). The
    command prints the log lines of its own package, of app_toolkit and of ``log_packages`` (the
    monorepo libraries it drives); other libraries' lines only with ``--verbose``."""
    own = {module.__name__.split(".")[0] for module in subcommands} | set(log_packages)

    def parser() -> argparse.ArgumentParser:
        return build_parser(prog, description, package_version, subcommands, env_packages)

    def main(argv: list[str] | None = None) -> int:
        private_state_dirs()
        if setup is not None:
            setup()
        return run_command(parser(), argv, sorted(own))

    main.__doc__ = f"``{prog}``: {description}"
    main.parser = parser  # for documentation tools and tests that walk the subcommands
    return main


def print_fields(fields: dict[str, object]) -> None:
    """Print ``key  value`` lines with the keys aligned."""
    width = max(map(len, fields))
    for key, value in fields.items():
        print(f"{key:<{width}}  {value}")


def _run_env(
    prog: str, package_version: str, packages: tuple[str, ...], args: argparse.Namespace
) -> int:
    from app_toolkit.devices import environment, resolve_device

    info = {prog: package_version, **environment(resolve_device("auto"))}
    for package in packages:
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "not installed"
    print_fields(info)
    return 0
