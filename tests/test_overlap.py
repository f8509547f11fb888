"""A stage overlapped in a forked child gives the same answer as run here, whatever
happens to the child."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from carveout.application import analyze as analyze_module
from carveout.application.overlap import Overlapped
from carveout.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "shopwise"

PARENT = os.getpid()


def _where() -> tuple[str, int]:
    return ("child" if os.getpid() != PARENT else "parent", sum(range(1000)))


def test_the_result_comes_from_the_child() -> None:
    assert Overlapped(_where).result() == ("child", 499500)


def test_disabled_runs_here() -> None:
    assert Overlapped(_where, enabled=False).result() == ("parent", 499500)


def _dies_in_the_child() -> str:
    if os.getpid() != PARENT:
        os._exit(3)
    return "ran here"


def test_a_child_that_dies_is_replaced_by_a_run_here() -> None:
    assert Overlapped(_dies_in_the_child).result() == "ran here"


def _fails() -> None:
    raise ValueError("broken stage")


def test_a_failure_surfaces_as_it_would_without_the_child() -> None:
    with pytest.raises(ValueError, match="broken stage"):
        Overlapped(_fails).result()


def _unpicklable() -> object:
    return lambda: os.getpid()


def test_a_result_that_cannot_come_back_is_computed_here() -> None:
    result = Overlapped(_unpicklable).result()
    assert callable(result) and result() == PARENT


def test_an_overlapped_run_writes_what_a_one_process_run_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the sample is far below the threshold: lower it so the cycles go to a second process
    monkeypatch.setattr(analyze_module, "OVERLAP_THRESHOLD", 0)
    forked: list[bool] = []
    original = analyze_module.Overlapped

    def spy(function, *, enabled):  # type: ignore[no-untyped-def]
        forked.append(enabled)
        return original(function, enabled=enabled)

    monkeypatch.setattr(analyze_module, "Overlapped", spy)
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs-{jobs}"
        code = main(["analyze", str(SAMPLE), "--out", str(out), "--no-cache", "-q", "-j", jobs])
        assert code == 0
        outputs[jobs] = (out / "analysis.json").read_bytes()
    assert forked == [False, True]
    assert outputs["1"] == outputs["2"]
