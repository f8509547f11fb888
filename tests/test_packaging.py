"""The wheel carries what carveout reads at run time: the detector catalogues from the
repository's `analyzers/`, the analysis JSON Schema and the report template."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_wheel_ships_catalogues_schema_and_templates(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPOSITORY),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("carveout-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())

    catalogues = sorted(p.name for p in (REPOSITORY / "analyzers").glob("*.toml"))
    assert catalogues
    for name in catalogues:
        assert f"carveout/analyzers/{name}" in names
    assert "carveout/schemas/analysis.schema.json" in names
    assert any(n.startswith("carveout/templates/") and n.endswith(".j2") for n in names)
    assert not any(n.startswith(("tests/", "samples/", "reports/")) for n in names)
