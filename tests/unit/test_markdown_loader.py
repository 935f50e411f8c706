"""The literate-spec toolchain: extraction, line mapping, structure checks, presets, cycles."""

from __future__ import annotations

import importlib
import sys
import textwrap
import traceback
from pathlib import Path

import pytest
import smspec.spec as spec_package
from smspec.spec._markdown import SpecFormatError, compile_document, parse_document, render_source


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.md"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run(path: Path, preset: str = "mainnet") -> dict:
    code, check = compile_document(path, preset=preset, package="smspec.spec")
    namespace: dict = {"__name__": "doc"}
    exec(code, namespace)
    check(namespace)
    return namespace


GOOD = """
    # A document

    Prose is not code.

    ## Constants

    | Name | Value | Description |
    | --- | --- | --- |
    | `UNITS` | `2**32` | labels per unit (= 4,294,967,296) |

    | Name | mainnet | testnet | tiny | Description |
    | --- | --- | --- | --- | --- |
    | `SCRYPT_N` | `8192` | `8192` | `16` | scrypt cost |

    #### `divide`

    ```python
    def divide(a: int, b: int) -> int:
        \"\"\"Divide, loudly.\"\"\"
        if b == 0:
            raise ZeroDivisionError("b must not be zero")
        return a // b
    ```

    ```python-example
    this is not python and never runs
    ```
"""


def test_code_and_constants_are_extracted_line_for_line(tmp_path: Path) -> None:
    path = write(tmp_path, "good", GOOD)
    doc = parse_document(path)
    source = render_source(doc, "mainnet")
    assert len(source.split("\n")) == len(doc.lines)
    lines = source.split("\n")
    md_lines = path.read_text().split("\n")
    for number, text in enumerate(lines, start=1):
        if text.startswith("def ") or text.startswith("    "):
            assert md_lines[number - 1] == text
    assert lines[md_lines.index("| `UNITS` | `2**32` | labels per unit (= 4,294,967,296) |")] == "UNITS = 2**32"
    namespace = run(path)
    assert namespace["UNITS"] == 2**32
    assert namespace["SCRYPT_N"] == 8192
    assert run(path, "tiny")["SCRYPT_N"] == 16
    assert "this" not in namespace


def test_traceback_points_at_the_markdown_line(tmp_path: Path) -> None:
    path = write(tmp_path, "good", GOOD)
    namespace = run(path)
    with pytest.raises(ZeroDivisionError) as info:
        namespace["divide"](1, 0)
    frame = traceback.extract_tb(info.tb)[-1]
    assert frame.filename == str(path)
    md_lines = path.read_text().split("\n")
    assert md_lines[frame.lineno - 1].strip() == 'raise ZeroDivisionError("b must not be zero")'
    assert frame.line == 'raise ZeroDivisionError("b must not be zero")'


def test_definition_must_sit_under_its_heading(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", """
        #### `something_else`

        ```python
        def divide(a: int, b: int) -> int:
            return a // b
        ```
    """)
    with pytest.raises(SpecFormatError, match=r"bad.md:4: definition 'divide' must sit under a heading naming `divide`"):
        run(path)


def test_code_blocks_hold_definitions_only(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", """
        #### `x`

        ```python
        print("side effect")
        ```
    """)
    with pytest.raises(SpecFormatError, match="definitions only"):
        run(path)


def test_forbidden_import(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", """
        ```python
        import numpy
        ```
    """)
    with pytest.raises(SpecFormatError, match="may not import 'numpy'"):
        run(path)


def test_spec_may_not_import_impl(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", """
        ```python
        from smspec.impl.registry import replaces
        ```
    """)
    with pytest.raises(SpecFormatError, match="only other spec modules"):
        run(path)


def test_wrong_annotation_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", """
        | Name | Value | Description |
        | --- | --- | --- |
        | `UNITS` | `2**32 + 1` | labels per unit (= 4,294,967,296) |
    """)
    with pytest.raises(SpecFormatError, match="UNITS = 4294967297 but its description says"):
        run(path)


def test_unclosed_fence_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", """
        #### `f`

        ```python
        def f() -> None:
            return None
    """)
    with pytest.raises(SpecFormatError, match="not closed"):
        run(path)


@pytest.fixture
def temp_spec_dir(tmp_path: Path):
    spec_package.search_path.insert(0, tmp_path)
    yield tmp_path
    spec_package.search_path.remove(tmp_path)
    for name in list(sys.modules):
        if name.startswith("smspec.spec.") and name.rsplit(".", 1)[-1].startswith("zz_"):
            del sys.modules[name]


def test_import_hook_presets_and_cross_imports(temp_spec_dir: Path) -> None:
    write(temp_spec_dir, "zz_base", """
        | Name | mainnet | testnet | tiny | Description |
        | --- | --- | --- | --- | --- |
        | `LAYERS` | `4032` | `1000` | `4` | layers per epoch |
    """)
    write(temp_spec_dir, "zz_user", """
        ```python
        from smspec.spec.zz_base import LAYERS
        ```

        #### `epoch_of`

        ```python
        def epoch_of(layer: int) -> int:
            return layer // LAYERS
        ```
    """)
    tiny = importlib.import_module("smspec.spec.tiny.zz_user")
    main = importlib.import_module("smspec.spec.mainnet.zz_user")
    assert tiny.epoch_of(9) == 2
    assert main.epoch_of(9000) == 2
    assert importlib.import_module("smspec.spec.zz_user") is main  # SMSPEC_PRESET unset: mainnet
    assert spec_package.load("zz_user", "tiny") is tiny


def test_preset_free_documents_are_shared(temp_spec_dir: Path) -> None:
    write(temp_spec_dir, "zz_plain", """
        #### `Thing`

        ```python
        class Thing:
            pass
        ```
    """)
    a = importlib.import_module("smspec.spec.tiny.zz_plain")
    b = importlib.import_module("smspec.spec.mainnet.zz_plain")
    assert a is b


def test_import_cycles_are_rejected(temp_spec_dir: Path) -> None:
    write(temp_spec_dir, "zz_a", """
        ```python
        from smspec.spec.zz_b import g
        ```
    """)
    write(temp_spec_dir, "zz_b", """
        ```python
        from smspec.spec.zz_a import f
        ```
    """)
    with pytest.raises(spec_package.SpecImportCycle, match="cycle"):
        importlib.import_module("smspec.spec.mainnet.zz_a")


def test_edited_document_takes_effect_on_next_import(temp_spec_dir: Path) -> None:
    path = write(temp_spec_dir, "zz_edit", """
        | Name | Value | Description |
        | --- | --- | --- |
        | `ANSWER` | `41` | before |
    """)
    assert importlib.import_module("smspec.spec.mainnet.zz_edit").ANSWER == 41
    path.write_text(path.read_text().replace("`41`", "`42`"))
    del sys.modules["smspec.spec.mainnet.zz_edit"]
    assert importlib.import_module("smspec.spec.mainnet.zz_edit").ANSWER == 42


def test_every_real_spec_document_loads_under_every_preset() -> None:
    for name in spec_package.available_modules():
        for preset in spec_package.PRESETS:
            module = spec_package.load(name, preset)
            assert module.__file__ == str(spec_package.document_path(name))


def test_error_in_a_real_spec_function_points_at_its_markdown_line() -> None:
    from smspec.spec import scale

    with pytest.raises(scale.InvalidEncoding) as info:
        scale.decode(b"", scale.Compact32)
    frame = traceback.extract_tb(info.tb)[-1]
    assert frame.filename == str(spec_package.SPEC_DIR / "scale.md")
    md_line = (spec_package.SPEC_DIR / "scale.md").read_text().split("\n")[frame.lineno - 1]
    assert md_line.strip().startswith('raise InvalidEncoding("short_input"')
    assert frame.line == md_line.strip()
