"""Install one package of the monorepo, with exactly what it needs, into its own virtualenv.

    python3.11 tools/install_package.py apps/geomap            # → .venvs/geomap, then `geomap --help`
    python3.11 tools/install_package.py core-flows --extras train,gpu --venv ~/envs/flows

The in-repo packages it depends on (app-toolkit, core-flows, affine-sr) are installed editable
beside it; every version comes from tools/constraints.txt. ``--shared-site DIR`` lets several such
environments share one installed PyTorch (a site-packages folder holding torch and its
dependencies only) instead of unpacking it into each; the test run of every package uses it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from layout import ROOT, in_repo_closure, load_packages, normalize, requirement_name

CONSTRAINTS = ROOT / "tools" / "constraints.txt"


def site_packages(env: Path) -> Path:
    """The site-packages folder of the virtualenv ``env`` (same Python as this one)."""
    relative = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    return env / relative


def resolve_target(spec: str, packages: dict) -> str:
    """A folder (``apps/geomap``) or a distribution name (``geomap``) → distribution name."""
    folder = (ROOT / spec).resolve() if not Path(spec).is_absolute() else Path(spec).resolve()
    for name, package in packages.items():
        if (ROOT / package.folder).resolve() == folder or name == normalize(spec):
            return name
    choices = ", ".join(str(p.folder) for p in packages.values())
    raise SystemExit(f"install_package: unknown package {spec!r}; choose from {choices}")


def pip_arguments(target: str, extras: set[str], packages: dict) -> list[str]:
    """``-e folder[extras]`` for ``target`` and each in-repo package it needs."""
    needed = in_repo_closure(target, extras, packages)
    order: list[str] = []

    def visit(name: str) -> None:  # dependencies first: pip 23 resolves extras of an editable
        if name in order:  # requirement only when it is listed before what requires it
            return
        for requirement in packages[name].dependencies:
            dep = requirement_name(requirement)[0]
            if dep in needed and dep != name:
                visit(dep)
        order.append(name)

    for name in sorted(needed):
        visit(name)
    arguments = []
    for name in order:
        wanted = needed[name]
        suffix = f"[{','.join(sorted(wanted))}]" if wanted else ""
        arguments += ["-e", f"{ROOT / packages[name].folder}{suffix}"]
    return arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="folder (apps/geomap) or install name (geomap)")
    parser.add_argument("--venv", type=Path, help="virtualenv to create or update (default: .venvs/NAME)")
    parser.add_argument("--extras", default="", help="comma-separated extras of the package, e.g. test")
    parser.add_argument(
        "--shared-site",
        type=Path,
        metavar="DIR",
        help="a site-packages folder with PyTorch installed, used instead of a copy of its own",
    )
    parser.add_argument("--check", action="store_true", help="run `pip check` afterwards")
    args = parser.parse_args(argv)

    packages = load_packages()
    target = resolve_target(args.package, packages)
    extras = {e.strip() for e in args.extras.split(",") if e.strip()}
    try:
        install = pip_arguments(target, extras, packages)
    except ValueError as err:
        raise SystemExit(f"install_package: {err}") from None
    env = args.venv or ROOT / ".venvs" / packages[target].import_name
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
    if args.shared_site is not None:
        shared = args.shared_site.resolve()
        if not (shared / "torch").is_dir():
            raise SystemExit(f"install_package: {shared} holds no torch")
        (site_packages(env) / "_shared_torch.pth").write_text(f"{shared}\n")
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*command, "-c", str(CONSTRAINTS), *install], check=True)
    if args.check:
        subprocess.run([str(python), "-m", "pip", "check"], check=True)
    print(f"{target} installed in {env}; activate with: . {env}/bin/activate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
