"""pytest plugin: ``--backend spec|impl|gpu`` and the ``gpu`` marker.

``pytest --backend=impl`` patches every spec module with the impl replacements before any
test imports it, so the whole spec suite (and the vector checks inside it) reruns against the
optimized code. Loaded through ``addopts = -p smspec.tests.plugin`` in pyproject.toml.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("spec", "impl", "gpu"),
        default=os.environ.get("SMSPEC_BACKEND", "spec"),
        help="run the spec test suite against this backend's replacements (default: spec)",
    )


def pytest_configure(config: pytest.Config) -> None:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "default", deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile(
        "thorough", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
    backend = config.getoption("--backend")
    if backend == "gpu":
        from smspec.gpu import opencl_available

        if not opencl_available():
            raise pytest.UsageError("--backend=gpu needs an OpenCL platform (pyopencl with pocl or a GPU)")
    from smspec.impl.registry import use_backend

    use_backend(backend)  # every spec module loaded from now on gets the backend's replacements too
    os.environ["SMSPEC_BACKEND"] = backend  # and CLI subprocesses the tests start


def pytest_report_header(config: pytest.Config) -> str:
    return f"smspec backend: {config.getoption('--backend')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from smspec.gpu import opencl_available

    if opencl_available():
        return
    skip = pytest.mark.skip(reason="no OpenCL device (install pyopencl and pocl-binary-distribution)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _restore_backend():
    """A test that switches backends (e.g. by running a CLI command in-process) must not
    leak the switch into the tests after it: the backend in force before the test (the one the
    suite was asked for, or the one a module-scoped fixture selected) is selected again, and
    checked installed in every spec module."""
    from smspec.impl.registry import active_backend, check_backend, use_backend

    before = active_backend()
    yield
    if active_backend() != before:
        use_backend(before)
        check_backend()
