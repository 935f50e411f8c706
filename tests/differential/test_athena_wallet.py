"""The wallet's transactions (tests/spec/athena/test_wallet.py) under the impl backend against the
spec: the same status, gas, output and state after, for every method, nested calls included.

impl/athena.py replaces the machine's `run`; the host's dispatch and the host calls are the
spec's code under both backends, so this checks that the compiled blocks agree with the spec's
stepper across HOST_CALL (the callee runs inside the caller's ecall), HOST_DEPLOY, HOST_SPAWN and
HOST_CONTEXT, with the gas the calls charge.
"""

from __future__ import annotations

from smspec.impl import registry
from smspec.tests.spec.athena.test_wallet import Setup, run, wallet_transactions
from smspec.tests.spec.athena.toolchain import build


def outputs(backend: str) -> dict[str, dict]:
    previous = registry.active_backend()
    registry.use_backend(backend)
    try:
        return {case.name: run(case) for case in wallet_transactions(Setup())}
    finally:
        registry.use_backend(previous)


def test_wallet_transactions_agree_between_backends():
    if build("wallet") is None:
        return
    spec_outputs = outputs("spec")
    impl_outputs = outputs("impl")
    assert impl_outputs == spec_outputs
    # Both ran real work: nested calls and code of the receiver among them.
    assert spec_outputs["proxy_to_wallet_method"]["gas_used"] > spec_outputs["max_spend"]["gas_used"]
