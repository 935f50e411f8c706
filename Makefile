# smspec: every target sets itself up first (scripts/setup.sh is idempotent and quick when done).
#   make run       the main job: a 4-node local devnet running the whole protocol (tiny preset)
#   make test      lint, the test suite (spec and impl backends), vector determinism, docs
#   make vectors   generate every conformance vector and check it on every backend
#   make vectors-pack  the release tarballs (dist/smspec-vectors-<version>-<preset>.tar.gz)
#   make coverage-vectors  spec statements, branches and definitions the vectors alone reach
.PHONY: setup run test lint pytest pytest-impl pytest-gpu test-slow vectors vectors-check vectors-pack docs coverage coverage-vectors clean

VENV := .venv/bin
SMSPEC := $(VENV)/smspec
PYTEST := $(VENV)/pytest -p no:cacheprovider
JOBS ?= 2

setup:
	@bash scripts/setup.sh

run: setup
	$(SMSPEC) devnet up

test: setup lint pytest pytest-impl pytest-gpu vectors-check docs

lint: setup
	$(VENV)/ruff check spec impl gpu conformance tools tests
	$(SMSPEC) spec build  # writes build/specpy (the default), creating build/
	$(VENV)/ruff check --config pyproject.toml --ignore F811,E402,I001,E303,W391 build/specpy/smspec/spec
	cd build/specpy && ../../$(VENV)/mypy --strict --follow-imports=silent --no-incremental smspec/spec
	$(SMSPEC) spec presets

pytest: setup
	$(PYTEST) -n $(JOBS) -q tests

pytest-impl: setup
	$(PYTEST) -n $(JOBS) -q --backend=impl tests/spec

pytest-gpu: setup
	$(PYTEST) -n $(JOBS) -q --backend=gpu tests/spec

test-slow: setup
	$(PYTEST) -n $(JOBS) -q -m slow tests

vectors: setup
	$(SMSPEC) vectors generate
	$(SMSPEC) vectors check --backend spec --quiet
	$(SMSPEC) vectors check --backend impl --quiet
	$(SMSPEC) vectors check --backend gpu --quiet
	$(SMSPEC) vectors run --client "$(SMSPEC) vectors serve"

vectors-check: setup
	$(SMSPEC) vectors generate --check --quiet
	$(VENV)/python -m smspec.conformance.pages

vectors-pack: vectors
	$(SMSPEC) vectors pack --out dist

docs: setup
	$(VENV)/sphinx-build -W -q -c docs -b html . docs/_build/html

clean:
	rm -rf build docs/_build

coverage: setup
	$(VENV)/coverage run --branch -m pytest -p no:cacheprovider -q tests/spec
	$(VENV)/coverage report --sort=cover

coverage-vectors: vectors
	$(SMSPEC) vectors coverage
