"""The install tools: pip's configuration handed to uv, environments keyed by their inputs, and
test-each's reading of pytest's verdicts."""

from install_package import install_key, pip_arguments
from layout import load_packages
from test_each_package import counts
from uv_pip import parse_pip_config, uv_environment

LISTING = """\
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/opt/wheels'
global.timeout='30'
install.find-links='/srv/wheels'
:env:.extra-index-url='https://mirror.example/simple'
global.constraint='/etc/pip/constraints.txt'
"""


def test_pip_settings_follow_pips_precedence():
    settings = parse_pip_config(LISTING)
    assert settings["extra-index-url"] == "https://mirror.example/simple"  # variable over file
    assert settings["find-links"] == "/srv/wheels"  # [install] over [global]
    assert settings["constraint"] == "/etc/pip/constraints.txt"


def test_uv_gets_pips_indexes_and_the_caller_wins():
    settings = {"extra-index-url": "file:///a  file:///b", "find-links": "/w", "index-url": "x"}
    env = uv_environment(settings, {"UV_DEFAULT_INDEX": "mine"})
    assert env["UV_INDEX"] == "file:///a file:///b" and env["UV_FIND_LINKS"] == "/w"
    assert env["UV_DEFAULT_INDEX"] == "mine"
    assert env["UV_INDEX_STRATEGY"] == "unsafe-best-match" and env["UV_COMPILE_BYTECODE"] == "1"


def test_an_environment_key_changes_with_what_it_installs():
    packages = load_packages()
    geomap = pip_arguments("geomap", {"test"}, packages)
    names = ["geomap", "app-toolkit"]
    key = install_key(geomap, names, packages)
    assert key == install_key(geomap, names, packages)
    assert key != install_key(pip_arguments("geomap", set(), packages), names, packages)
    assert key != install_key(geomap, ["geomap"], packages)


def test_counts_read_pytests_closing_line():
    assert counts("...\n36 passed, 2 skipped, 11 warnings in 7.08s") == {"passed": 36, "skipped": 2}
    assert counts("E   ModuleNotFoundError\n1 error in 0.5s") == {"error": 1}
    assert counts("") == {}
