"""Shared devnet runs of tests/node (each run once per session; PoST memo shared between runs)."""

from __future__ import annotations

import pytest
from smspec.tools.node.devnet import Devnet, DevnetConfig

# keys derived from the public seed the documented state roots use (tests/node/test_devnet.py)
HONEST = DevnetConfig(layers=16, key_seed="smspec-devnet")
ADVERSARIAL = DevnetConfig(layers=16, byzantine=(3,), crash={2: [9, 13]}, key_seed="smspec-devnet")


@pytest.fixture(scope="session")
def wallet_code():
    """The wallet template's ELF; the devnet also needs RandomX for PoST (k2pow)."""
    from smspec.tests.spec.athena.toolchain import build
    from smspec.tests.spec.post.helpers import randomx_available

    if not randomx_available():
        pytest.skip("librandomx0 is not installed (scripts/setup-system.sh installs it); PoST needs it")
    return build("wallet")


@pytest.fixture(scope="session")
def memo():
    """PoST proofs and verifications memoized across the session's devnets (rule "post-memo")."""
    return {}


def _run(tmp_path_factory, name, config, wallet_code, memo):
    devnet = Devnet(str(tmp_path_factory.mktemp(name)), config, wallet_code=wallet_code, memo=memo)
    return devnet, devnet.run()


@pytest.fixture(scope="session")
def honest(tmp_path_factory, wallet_code, memo):
    devnet, summary = _run(tmp_path_factory, "honest", HONEST, wallet_code, memo)
    yield devnet, summary
    devnet.close()


@pytest.fixture(scope="session")
def adversarial(tmp_path_factory, wallet_code, memo):
    devnet, summary = _run(tmp_path_factory, "adversarial", ADVERSARIAL, wallet_code, memo)
    yield devnet, summary
    devnet.close()
