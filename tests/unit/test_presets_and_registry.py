"""Preset data files cannot drift from the Markdown; every replacement matches its spec function."""

from __future__ import annotations

import pytest
from smspec import spec
from smspec.impl.registry import all_replacements, normalized_signature, original
from smspec.tools.commands.spec import PRESET_DIR_NAME, preset_data, preset_file_text


def test_preset_files_match_markdown_tables() -> None:
    for preset, values in preset_data().items():
        path = spec.SPEC_DIR / PRESET_DIR_NAME / f"{preset}.json"
        assert path.exists(), f"{path} missing: run `smspec spec presets --write`"
        assert path.read_text(encoding="utf-8") == preset_file_text(values), (
            f"{path} drifted from the Markdown tables: run `smspec spec presets --write`"
        )


def _replacement_ids() -> list[str]:
    return [f"{r.backend}:{r.module}.{r.name}" for r in all_replacements()]


@pytest.mark.parametrize("replacement", all_replacements(), ids=_replacement_ids())
def test_replacement_exists_in_spec_with_same_signature(replacement) -> None:
    module = spec.load(replacement.module, "mainnet")
    assert replacement.name in module.__dict__, f"spec module {replacement.module} has no {replacement.name}"
    spec_function = original(module, replacement.name)
    assert callable(spec_function)
    assert spec_function.__module__ == module.__name__  # the spec's own, whatever backend is in force
    function = replacement.function(module) if replacement.factory else replacement.function
    assert normalized_signature(function) == normalized_signature(spec_function)
