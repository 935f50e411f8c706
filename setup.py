"""Package layout of smspec; the metadata is in pyproject.toml.

The import package ``smspec`` is assembled from top-level folders: ``smspec`` is ``tools/_root``,
``smspec.spec`` is ``spec/``, ``smspec.tools`` is ``tools/`` and so on (ROOTS). setuptools'
automatic discovery (``[tool.setuptools.packages.find]`` in pyproject.toml) names a package
after its folder path and has no way to put it under ``smspec.``, so pyproject.toml alone could
only list every subpackage by hand, which is how modules went missing from the wheel. Here the
list is computed from the folders: every folder with an ``__init__.py`` under a root is a
package (tests/unit/test_packaging.py checks that the wheel holds every module of the tree).

Package data, declared here only: the files the code reads at run time. ``include_package_data``
is off, so nothing else (and no second declaration through a MANIFEST) reaches the wheel.
"""

import warnings

from setuptools import find_packages, setup
from setuptools.warnings import InformationOnly

# `pip install -e .` (the development set-up) maps the packages with an import finder, and
# setuptools then always adds a note that a folder named like the package in the working
# directory would shadow it. The checkout has no `smspec` folder (the package is assembled from
# ROOTS), so the note never applies; it is silenced, setuptools' real warnings are not.
warnings.filterwarnings("ignore", message="Editable installation", category=InformationOnly)

ROOTS = {
    "smspec": "tools/_root",
    "smspec.spec": "spec",
    "smspec.impl": "impl",
    "smspec.gpu": "gpu",
    "smspec.conformance": "conformance",
    "smspec.tools": "tools",
    "smspec.tests": "tests",
}

PACKAGE_DATA = {
    "smspec.spec": ["*.md", "presets/*.json"],  # the spec documents are the spec's source code
    "smspec.gpu": ["*.cl"],  # OpenCL kernels
    "smspec.conformance": ["formats/*.md", "formats/handlers/*.md"],  # vector and adapter formats, handler pages
    "smspec.conformance.adapters": ["node/*.mjs"],  # the JavaScript example adapter (shipped in release tarballs)
    "smspec.tools.check": ["results.json"],  # what `smspec check claims` compares a new run with
    # the Athena programs (C, assembly, linker script) built by tests/spec/athena/toolchain.py for
    # the devnet's wallet template and the compiled-program vectors
    "smspec.tests.spec.athena": ["programs/*"],
    "smspec.tools.dashboard": ["static/*"],  # the dashboard page, its script and style sheet
}


def packages() -> list[str]:
    found = []
    for name, folder in ROOTS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(folder) if sub.split(".")[0] != "_root"]
    return sorted(found)


setup(
    packages=packages(),
    package_dir=ROOTS,
    package_data=PACKAGE_DATA,
    include_package_data=False,
)
