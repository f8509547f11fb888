"""How a run ends: a stop signal ends it cleanly and no process of the run outlives it; an
output that cannot be written is told as such, not as a bug."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carveout.application.lifetime import Stopped, stop_signals_raise


def test_sigterm_raises_stopped_inside_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Stopped) as stopped, stop_signals_raise():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at the next bytecode: never reached
    assert stopped.value.signal_number == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def _big_project(root: Path, modules: int = 2400) -> Path:
    package = root / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    body = "".join(
        f"def f{n}(x):\n    return [y * {n} for y in range(x) if y % 3]\n\n" for n in range(60)
    )
    for number in range(modules):
        (package / f"m{number}.py").write_text(
            f"from app import m{(number + 1) % modules}\n{body}"
        )
    return root


def test_sigterm_during_the_scan_ends_every_process_of_the_run(tmp_path: Path) -> None:
    project = _big_project(tmp_path / "project")
    command = [sys.executable, "-c", "from carveout.cli import main; raise SystemExit(main())"]
    command += ["analyze", str(project), "--out", str(tmp_path / "out"), "--no-cache", "-j", "2"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.5)  # interpreter start, discovery, the pool at work
    run.send_signal(signal.SIGTERM)
    # the pipes close only when every process holding them (the scanning ones too) ended
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 128 + signal.SIGTERM, stderr.decode()
    assert b"stopped by SIGTERM" in stderr
    assert b"Traceback" not in stderr
    assert not (tmp_path / "out" / "analysis.json").exists()


def test_a_full_disk_on_stdout_is_an_output_error_not_a_bug() -> None:
    sample = Path(__file__).resolve().parent.parent / "samples" / "shopwise"
    command = [sys.executable, "-c", "from carveout.cli import main; raise SystemExit(main())"]
    command += ["couplings", str(sample), "--format", "json", "--no-cache"]
    with open("/dev/full", "wb") as full:  # every write fails with ENOSPC (Linux, CI)
        run = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert run.returncode == 74
    assert run.stderr.decode().strip() == "error: cannot write the output: No space left on device"
