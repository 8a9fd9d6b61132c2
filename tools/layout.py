"""The monorepo's packages, how they depend on each other, and what their modules import.

Used by ``tools/install_package.py`` (install one package with exactly what it needs) and by the
layout tests (every third-party import declared; apps → packages only, never app → app).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "Package", "imports_of", "in_repo_closure", "load_packages", "requirement_name"]

# Import names whose distribution is named otherwise, for distributions that may not be
# installed where the check runs.
DISTRIBUTION_OF = {
    "PIL": "pillow",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "pyyaml",
    "facenet_pytorch": "facenet-pytorch",
}


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> tuple[str, set[str]]:
    """``"app-toolkit[media,plots]>=0.1"`` → ``("app-toolkit", {"media", "plots"})``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", requirement)
    if match is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    extras = {e.strip() for e in (match[2] or "").split(",") if e.strip()}
    return normalize(match[1]), extras


@dataclass
class Package:
    """One installable package of the monorepo."""

    folder: Path  # relative to ROOT, e.g. apps/geomap
    name: str  # distribution name, normalised
    import_name: str
    dependencies: list[str]
    extras: dict[str, list[str]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.folder.parts[0]  # "packages" or "apps"

    def declared(self, extras: set[str] | None = None) -> set[str]:
        """Distribution names this package declares: its dependencies and those of ``extras``
        (all extras when None)."""
        chosen = self.extras if extras is None else {e: self.extras[e] for e in extras}
        requirements = self.dependencies + [r for reqs in chosen.values() for r in reqs]
        return {requirement_name(r)[0] for r in requirements}


def load_packages() -> dict[str, Package]:
    """Every package under packages/ and apps/, keyed by normalised distribution name."""
    packages = {}
    for pyproject in sorted([*ROOT.glob("packages/*/pyproject.toml"), *ROOT.glob("apps/*/pyproject.toml")]):
        project = tomllib.loads(pyproject.read_text())["project"]
        folder = pyproject.parent
        (src,) = [p for p in (folder / "src").iterdir() if (p / "__init__.py").is_file()]
        packages[normalize(project["name"])] = Package(
            folder=folder.relative_to(ROOT),
            name=normalize(project["name"]),
            import_name=src.name,
            dependencies=project.get("dependencies", []),
            extras=project.get("optional-dependencies", {}),
        )
    return packages


def in_repo_closure(
    target: str, extras: set[str], packages: dict[str, Package]
) -> dict[str, set[str]]:
    """The in-repo packages ``target`` (with ``extras``) needs, itself included, each with the
    extras asked of it: ``{name: extras}``."""
    needed: dict[str, set[str]] = {}
    todo = [(normalize(target), set(extras))]
    while todo:
        name, wanted = todo.pop()
        if name in needed and wanted <= needed[name]:
            continue
        needed.setdefault(name, set()).update(wanted)
        package = packages[name]
        unknown = wanted - set(package.extras)
        if unknown:
            raise ValueError(f"{name} has no extra {', '.join(sorted(unknown))}")
        requirements = package.dependencies + [r for e in wanted for r in package.extras[e]]
        for requirement in requirements:
            dep, dep_extras = requirement_name(requirement)
            if dep in packages:
                todo.append((dep, dep_extras))
    return needed


def imports_of(folder: Path) -> dict[str, set[Path]]:
    """Top-level module names imported anywhere below ``folder`` (absolute imports only, lazy
    ones inside functions included), each with the files importing it."""
    found: dict[str, set[Path]] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path)
    return found


@functools.cache
def _installed_modules() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()


def distribution_of(module: str) -> str | None:
    """The distribution that provides top-level ``module``; None for the standard library."""
    if module in sys.stdlib_module_names or module == "__future__":
        return None
    if module in DISTRIBUTION_OF:
        return DISTRIBUTION_OF[module]
    provided = _installed_modules().get(module)
    return normalize(provided[0]) if provided else normalize(module)
