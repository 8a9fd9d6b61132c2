"""The monorepo's promises about its own structure: each package declares what it imports,
imports point from apps to packages only, and the CLI skeleton exists once."""

from __future__ import annotations

import pytest
from layout import ROOT, distribution_of, imports_of, in_repo_closure, load_packages

PACKAGES = load_packages()
BY_IMPORT = {p.import_name: name for name, p in PACKAGES.items()}


def local_modules(folder) -> set[str]:
    """Modules that live beside the tests (helpers, conftest) or in tools/ (the pytest plugin)."""
    return {p.stem for p in folder.glob("*.py")} | {p.stem for p in (ROOT / "tools").glob("*.py")}


def imported_distributions(folder, local=frozenset()) -> dict[str, set[str]]:
    """Distribution → importing files, for every non-stdlib, non-local import below ``folder``."""
    found: dict[str, set[str]] = {}
    for module, files in imports_of(folder).items():
        if module in local:
            continue
        name = BY_IMPORT.get(module) or distribution_of(module)
        if name is not None:
            found.setdefault(name, set()).update(str(f.relative_to(ROOT)) for f in files)
    return found


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_source_imports_are_declared(name):
    package = PACKAGES[name]
    imported = imported_distributions(ROOT / package.folder / "src")
    imported.pop(name, None)
    missing = {d: sorted(f) for d, f in imported.items() if d not in package.declared()}
    assert not missing, f"{name} imports undeclared distributions: {missing}"


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_test_imports_are_declared(name):
    package = PACKAGES[name]
    tests = ROOT / package.folder / "tests"
    imported = imported_distributions(tests, local_modules(tests))
    needed = in_repo_closure(name, {"test"} if "test" in package.extras else set(), PACKAGES)
    available = set(needed) | {d for n, e in needed.items() for d in PACKAGES[n].declared(e)}
    missing = {d: sorted(f) for d, f in imported.items() if d not in available}
    assert not missing, f"{name}'s tests import what `{name}[test]` does not install: {missing}"


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_in_repo_dependencies_are_the_ones_used(name):
    """Apps depend on packages, never on apps; a package is declared only where it is imported
    (no app drags in the flow library without using a flow)."""
    package = PACKAGES[name]
    declared = {d for d in package.declared() if d in PACKAGES and d != name}
    imported = set(imported_distributions(ROOT / package.folder / "src")) & set(PACKAGES)
    imported.discard(name)
    assert declared == imported, f"{name}: declares {sorted(declared)}, imports {sorted(imported)}"
    for dependency in declared:
        assert PACKAGES[dependency].kind == "packages", f"{name} depends on the app {dependency}"


def test_core_flows_depends_on_no_other_flow_user():
    declared = {d for d in PACKAGES["core-flows"].declared() if d in PACKAGES}
    assert declared <= {"app-toolkit", "core-flows"}
    assert not {d for d in PACKAGES["app-toolkit"].declared() if d in PACKAGES} - {"app-toolkit"}


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_one_cli_skeleton(name):
    """Each command's cli/__init__.py only lists subcommands for app_toolkit.cli.make_main."""
    package = PACKAGES[name]
    cli = ROOT / package.folder / "src" / package.import_name / "cli"
    if not cli.is_dir():
        return
    text = (cli / "__init__.py").read_text()
    assert "make_main(" in text and "ArgumentParser(" not in text
    assert not (cli / "__main__.py").exists() and not (cli / "env.py").exists()


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_requires_the_python_the_code_needs(name):
    """The code uses 3.11 features (datetime.UTC, tomllib, contextlib.chdir, ExceptionGroup)."""
    import tomllib

    pyproject = ROOT / PACKAGES[name].folder / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["requires-python"] == ">=3.11"
