"""Install one package of the monorepo, with exactly what it needs, into its own virtualenv.

    python3.11 tools/install_package.py apps/geomap            # → .venvs/geomap, then `geomap --help`
    python3.11 tools/install_package.py core-flows --extras train,gpu --venv ~/envs/flows

The in-repo packages it depends on (app-toolkit, core-flows, affine-sr) are installed editable
beside it; every version comes from tools/constraints.txt. With uv installed beside the
interpreter running this script (``make install`` puts it in .venv) the environment is made and
filled by uv with pip's configuration (``uv_pip.py``): seconds, PyTorch hard-linked from uv's
cache; without it, by venv and pip. An environment whose inputs (the pyproject files involved,
the extras, tools/constraints.txt) are unchanged since its last install is left as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import venv
from pathlib import Path

from layout import ROOT, in_repo_closure, load_packages, normalize, requirement_name
from uv_pip import pip_settings, uv_binary, uv_environment, uv_pip

CONSTRAINTS = ROOT / "tools" / "constraints.txt"


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


def install_key(arguments: list[str], names: list[str], packages: dict) -> str:
    """A hash of what an install depends on: its pip arguments, the pyproject files of the
    in-repo packages ``names`` and the constraints."""
    digest = hashlib.sha256("\0".join(arguments).encode())
    for name in sorted(names):
        digest.update((ROOT / packages[name].folder / "pyproject.toml").read_bytes())
    digest.update(CONSTRAINTS.read_bytes())
    return digest.hexdigest()


def install(target: str, extras: set[str], env: Path, check: bool = False) -> bool:
    """Create or update the virtualenv ``env`` with ``target`` and what it needs; False when it
    was up to date already."""
    packages = load_packages()
    arguments = ["-c", str(CONSTRAINTS), *pip_arguments(target, extras, packages)]
    stamp = env / ".monorepo-install"
    key = install_key(arguments, list(in_repo_closure(target, extras, packages)), packages)
    python = env / "bin" / "python"
    if python.exists() and stamp.is_file() and stamp.read_text() == key:
        return False
    stamp.unlink(missing_ok=True)
    uv = uv_binary()
    if uv is None:  # plain venv and pip: slower, same result
        if not python.exists():
            venv.create(env, with_pip=True)
        pip = [str(python), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", "--disable-pip-version-check", *arguments], check=True)
        if check:
            subprocess.run([*pip, "check"], check=True)
    else:
        if not python.exists():
            subprocess.run(
                [uv, "venv", "-q", "--seed", "--python", sys.executable, str(env)],
                check=True,
                env=uv_environment(pip_settings()),
            )
        if uv_pip(["install", "-q", *arguments], python=str(python)) != 0:
            raise SystemExit(f"install_package: installing {target} into {env} failed")
        if check and uv_pip(["check", "-q"], python=str(python)) != 0:
            raise SystemExit(f"install_package: {env} has conflicting requirements")
    stamp.write_text(key)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="folder (apps/geomap) or install name (geomap)")
    parser.add_argument("--venv", type=Path, help="virtualenv to create or update (default: .venvs/NAME)")
    parser.add_argument("--extras", default="", help="comma-separated extras of the package, e.g. test")
    parser.add_argument("--check", action="store_true", help="check the installed requirements afterwards")
    args = parser.parse_args(argv)

    packages = load_packages()
    target = resolve_target(args.package, packages)
    extras = {e.strip() for e in args.extras.split(",") if e.strip()}
    env = args.venv or ROOT / ".venvs" / packages[target].import_name
    try:
        changed = install(target, extras, env, check=args.check)
    except ValueError as err:
        raise SystemExit(f"install_package: {err}") from None
    state = "installed in" if changed else "already up to date in"
    print(f"{target} {state} {env}; activate with: . {env}/bin/activate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
