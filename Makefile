# smspec: every target sets itself up first (scripts/setup.sh is idempotent and quick when done).
#   make run       the main job: a 4-node local devnet running the whole protocol (tiny preset)
#   make test      lint, the test suite (spec and impl backends), vector determinism, docs
#   make vectors   generate every conformance vector and check it on every backend
#   make vectors-pack  the release tarballs (dist/smspec-vectors-<version>-<preset>.tar.gz)
#   make coverage-vectors  spec statements, branches and definitions the vectors alone reach
.PHONY: setup run test lint pytest pytest-impl pytest-gpu test-slow vectors vectors-check vectors-pack docs docs-pdf docs-screenshots dashboard-test claims coverage coverage-vectors clean

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

# The site (HTML, with a check of every internal link), the single-page and the EPUB editions
# (the EPUB checked for every numbered spec line: tools/docs_epub_check.py); -W and no
# suppressed warnings. docs-pdf needs Debian's LaTeX (scripts/setup-system.sh installs it).
docs: setup
	$(VENV)/sphinx-build -W -q -c docs -b html . docs/_build/html
	$(VENV)/sphinx-build -W -q -c docs -b singlehtml . docs/_build/singlehtml
	$(VENV)/sphinx-build -W -q -c docs -b epub -d docs/_build/doctrees-epub . docs/_build/epub
	$(VENV)/python -m smspec.tools.docs_epub_check docs/_build/epub/smspec.epub

# The PDF edition (Debian's TeX Live, installed on first use: SMSPEC_DOCS_PDF=1), and a check
# that no code line runs past the margin.
docs-pdf: setup
	SMSPEC_DOCS_PDF=1 bash scripts/setup-system.sh
	$(VENV)/sphinx-build -W -q -c docs -b latex . docs/_build/latex
	cd docs/_build/latex && latexmk -pdf -interaction=nonstopmode -halt-on-error -quiet smspec.tex >/dev/null
	$(VENV)/python -m smspec.tools.docs_pdf_check docs/_build/latex/smspec

# Screenshots of the site and the PDF in headless chromium (docs/_build/screenshots/*.png), each
# checked for what it must show (tools/docs_screenshots.py).
docs-screenshots: docs docs-pdf
	$(VENV)/python -m smspec.tools.docs_screenshots

# The dashboard in headless chromium against a running devnet (part of `make test` too); keeps
# its screenshots of both views, wide and narrow, in build/dashboard/ (docs/dashboard.md).
dashboard-test: setup
	SMSPEC_SCREENSHOTS=build/dashboard $(PYTEST) -q tests/node/test_dashboard_browser.py

# Run the tests the spec documents' Claims sections name; records docs/claims-record.json.
claims: setup
	$(VENV)/python -m smspec.tools.claims_run --jobs $(JOBS)

clean:
	rm -rf build docs/_build

coverage: setup
	$(VENV)/coverage run --branch -m pytest -p no:cacheprovider -q tests/spec
	$(VENV)/coverage report --sort=cover

coverage-vectors: vectors
	$(SMSPEC) vectors coverage
