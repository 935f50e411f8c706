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
        reason = _opencl_unusable()
        if reason:
            raise pytest.UsageError(f"--backend=gpu: {reason}")
    from smspec.impl.registry import use_backend

    use_backend(backend)  # every spec module loaded from now on gets the backend's replacements too
    os.environ["SMSPEC_BACKEND"] = backend  # and CLI subprocesses the tests start


def pytest_report_header(config: pytest.Config) -> str:
    return f"smspec backend: {config.getoption('--backend')}"


def _opencl_unusable() -> str | None:
    """Why the OpenCL engines cannot run here (no device, or no configuration passes its
    self-check: gpu/opencl.py), or None when both engines have a passing configuration."""
    from smspec.gpu import opencl, opencl_available

    if not opencl_available():
        return "no OpenCL device (install pyopencl and pocl-binary-distribution)"
    try:
        for kind in opencl.ENGINES:
            opencl.plan(kind)
    except opencl.OpenCLUnavailable as e:
        return str(e)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any("gpu" in item.keywords for item in items):
        return
    reason = _opencl_unusable()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``opencl_scrypt`` or ``opencl_score`` runs once per configuration that passes
    its self-check, on every device (the engine's choice first, its id starting with
    ``chosen``): a faster configuration another machine prefers is tested here too."""
    for name, kind in (("opencl_scrypt", "scrypt"), ("opencl_score", "score")):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, _opencl_params(kind), indirect=True)


def _opencl_params(kind: str) -> list:
    from smspec.gpu import opencl

    if _opencl_unusable() is not None:
        return [pytest.param(None, id="no-opencl", marks=pytest.mark.gpu)]
    cls = opencl.engine_class(kind)
    params = []
    for position, (device, result) in enumerate(opencl.all_passing(kind)):
        label = f"{device.address} {cls.describe(result['config'])}".replace(" ", "-").replace("/", "per")
        params.append(pytest.param((device, result["config"]), id=("chosen-" if position == 0 else "") + label,
                                   marks=pytest.mark.gpu))
    return params


_OPENCL_ENGINES: dict[str, object] = {}


def _opencl_engine(request: pytest.FixtureRequest, kind: str):
    """The engine of one parametrized configuration, built and self-checked once per session."""
    import json

    from smspec.gpu import opencl

    device, config = request.param
    key = f"{kind} {device.address} {json.dumps(config, sort_keys=True)}"
    if key not in _OPENCL_ENGINES:
        engine = opencl.engine_class(kind)(device.get(), config)
        engine.self_check()
        _OPENCL_ENGINES[key] = engine
    return _OPENCL_ENGINES[key]


@pytest.fixture(scope="session")
def opencl_scrypt(request: pytest.FixtureRequest):
    """A ScryptOpenCL engine in one passing configuration (see pytest_generate_tests)."""
    return _opencl_engine(request, "scrypt")


@pytest.fixture(scope="session")
def opencl_score(request: pytest.FixtureRequest):
    """A ScoreOpenCL engine in one passing configuration (see pytest_generate_tests)."""
    return _opencl_engine(request, "score")


@pytest.fixture(scope="module", autouse=True)
def _restore_suite_backend(request: pytest.FixtureRequest):
    """After each test module (and its module-scoped fixtures, which may select a backend of
    their own, like the devnet's impl) the backend the suite was asked for is in force again."""
    from smspec.impl.registry import active_backend, check_backend, use_backend

    yield
    wanted = request.config.getoption("--backend")
    if active_backend() != wanted:
        use_backend(wanted)
        check_backend()


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
