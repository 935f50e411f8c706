"""Coverage of spec code is reported against the lines of the Markdown documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import smspec.spec as spec_package

ROOT = spec_package.SPEC_DIR.parent


def test_coverage_reports_markdown_lines(tmp_path: Path) -> None:
    script = tmp_path / "use_scale.py"
    script.write_text(
        "from smspec.spec import scale\n"
        "try:\n"
        "    scale.decode(b'', scale.Compact32)\n"
        "except scale.InvalidEncoding:\n"
        "    pass\n"
    )
    rc = str(ROOT / "pyproject.toml")
    env_cmd = [sys.executable, "-m", "coverage"]
    subprocess.run([*env_cmd, "run", f"--rcfile={rc}", str(script)], cwd=tmp_path, check=True)
    subprocess.run([*env_cmd, "json", f"--rcfile={rc}", "-o", "cov.json"], cwd=tmp_path, check=True,
                   capture_output=True)
    report = json.loads((tmp_path / "cov.json").read_text())
    scale_md = str(spec_package.SPEC_DIR / "scale.md")
    assert scale_md in report["files"]
    executed = report["files"][scale_md]["executed_lines"]
    lines = (spec_package.SPEC_DIR / "scale.md").read_text().split("\n")
    raised = [n for n in executed if 'raise InvalidEncoding("short_input"' in lines[n - 1]]
    assert raised, "the raise of short_input should be reported as executed at its Markdown line"
    for n in executed:
        assert lines[n - 1].strip(), f"line {n} of scale.md is blank but reported as executed"
