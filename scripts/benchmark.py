"""Benchmark carveout beside grimp and tach on homeassistant 2024.3.3 (not a test).

The wheel is downloaded with pip and unpacked; its code is read by all three tools, never
imported or run. Each measurement is one process, timed from start to exit, with the peak
memory of the largest process it started. Rounds alternate between the tools (grimp cold
and warm, tach map, carveout cold, warm and with one file changed) and the median of the
rounds is reported, then carveout's cold run on 1x, 2x and 4x the code. The table at the
end gives each ratio beside its goal. Usage (from the repository root):

    .venv/bin/python scripts/benchmark.py [--rounds 5] [--scale-rounds 3] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _wheels import download  # the scripts folder is not a package

REPOSITORY = Path(__file__).resolve().parent.parent
PROJECT = "homeassistant"
VERSION = "2024.3.3"
# the file edited for the "one file changed" runs (any file would do: every stage after
# the scan runs again anyway)
CHANGED_FILE = "homeassistant/helpers/entity.py"

GOALS = {
    "cold": 3.0,  # carveout cold / grimp cold
    "warm": 1.0,  # carveout warm / grimp warm
    "changed": 1.2,  # carveout one file changed / carveout warm
    "memory_mb": 1536.0,  # peak of the largest process
    "scaling": 2.2,  # time for twice the code / time for the code
}

GRIMP_PROGRAM = """
import json, sys, time
import grimp
start = time.perf_counter()
graph = grimp.build_graph(sys.argv[1], cache_dir=sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "modules": len(graph.modules)}))
"""
CARVEOUT_PROGRAM = "from carveout.cli import main; raise SystemExit(main())"
# GNU time measures the peak memory of the largest process (without it: wait4's figure,
# which also counts this script's own memory at the fork)
TIME = shutil.which("time", path="/usr/bin:/bin")


@dataclass
class Measured:
    """One process: wall seconds, peak memory of its largest process, what it printed."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str
    load: float  # the 1-minute load average when it finished


@dataclass
class Series:
    runs: list[Measured] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    def spread(self) -> str:
        times = sorted(r.seconds for r in self.runs)
        return f"{times[0]:.2f}-{times[-1]:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=REPOSITORY / ".work" / "bench")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale-rounds", type=int, default=3)
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1x/2x/4x runs")
    parser.add_argument("--jobs", type=int, default=None, help="carveout's --jobs")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    options = parser.parse_args(argv)

    work = options.work.resolve()
    tree = fetch(work)
    print(f"code: {tree} ({count_lines(tree / PROJECT):,} lines of Python)", flush=True)
    print(f"machine: {os.cpu_count()} cores, load {load_text()}", flush=True)
    jobs = ["--jobs", str(options.jobs)] if options.jobs else []

    # the tools, alternately
    series = {
        name: Series()
        for name in ("grimp_cold", "grimp_warm", "tach", "cold", "warm", "changed", "unfiltered")
    }
    grimp_inner: dict[str, list[float]] = {"cold": [], "warm": []}
    timings: dict[str, list[dict[str, float]]] = {
        "cold": [],
        "warm": [],
        "changed": [],
        "unfiltered": [],
    }
    same_as_cold = []
    same_unfiltered = []
    for number in range(1, options.rounds + 1):
        scratch = Path(tempfile.mkdtemp(prefix="round-", dir=work))
        for kind in ("cold", "warm"):
            measured = run_grimp(tree, scratch / "grimp-cache")
            series[f"grimp_{kind}"].runs.append(measured)
            grimp_inner[kind].append(json.loads(measured.stdout)["seconds"])
        series["tach"].runs.append(run_tach(tree))

        cache = scratch / "carveout-cache"
        for kind in ("cold", "warm"):
            measured = run_carveout(tree, scratch / kind, cache, jobs)
            series[kind].runs.append(measured)
            timings[kind].append(stage_times(measured.stderr))
        same_as_cold.append(same_analysis(scratch / "cold", scratch / "warm"))
        # the AI detectors' pre-filter must change nothing: a warm run without it
        measured = run_carveout(tree, scratch / "unfiltered", cache, [*jobs, "--no-prefilter"])
        series["unfiltered"].runs.append(measured)
        timings["unfiltered"].append(stage_times(measured.stderr))
        same_unfiltered.append(same_analysis(scratch / "warm", scratch / "unfiltered"))
        with edited(tree / CHANGED_FILE, number):
            measured = run_carveout(tree, scratch / "changed", cache, jobs)
        series["changed"].runs.append(measured)
        timings["changed"].append(stage_times(measured.stderr))
        diagram = diagram_size(scratch / "cold")
        shutil.rmtree(scratch, ignore_errors=True)
        print(
            f"round {number}: "
            + ", ".join(f"{name} {s.runs[-1].seconds:.2f}s" for name, s in series.items())
            + f" (load {load_text()})",
            flush=True,
        )

    # carveout on 1x, 2x and 4x the code, cold
    scaling: dict[int, Series] = {}
    if not options.no_scaling:
        for copies in (1, 2, 4):
            scaled = scaled_tree(work, tree, copies)
            scaling[copies] = Series()
            for _ in range(options.scale_rounds):
                scratch = Path(tempfile.mkdtemp(prefix="scale-", dir=work))
                measured = run_carveout(scaled, scratch / "out", scratch / "cache", jobs)
                scaling[copies].runs.append(measured)
                shutil.rmtree(scratch, ignore_errors=True)
            print(f"{copies}x: {scaling[copies].median:.2f}s (load {load_text()})", flush=True)

    report = summarise(
        series, grimp_inner, timings, scaling, same_as_cold, same_unfiltered, diagram
    )
    print(report["table"])
    if options.json:
        options.json.write_text(json.dumps(report["numbers"], indent=2) + "\n")
    return 0


# --- the code ----------------------------------------------------------------------------


def fetch(work: Path) -> Path:
    """The unpacked wheel (downloaded with pip on first use); only `.py` files are read."""
    tree = work / f"{PROJECT}-{VERSION}"
    if (tree / PROJECT / "__init__.py").is_file():
        return tree
    wheel = download(f"{PROJECT}=={VERSION}")
    tree.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tree)
    return tree


def scaled_tree(work: Path, tree: Path, copies: int) -> Path:
    """`copies` copies of the package side by side, each under its own name with its own
    imports and dotted strings renamed, so each is a separate monolith of the same shape."""
    target = work / f"scaled-{copies}x"
    if (target / ".complete").is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for copy in range(copies):
        name = PROJECT if copy == 0 else f"{PROJECT}_copy{copy}"
        pattern = re.compile(rf"\b{PROJECT}\b")
        for source in sorted((tree / PROJECT).rglob("*.py")):
            relative = source.relative_to(tree / PROJECT)
            destination = target / name / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = source.read_bytes()
            if copy:
                data = pattern.sub(name, data.decode("utf-8")).encode("utf-8")
            destination.write_bytes(data)
    (target / ".complete").write_text("")
    return target


def count_lines(folder: Path) -> int:
    return sum(path.read_bytes().count(b"\n") for path in folder.rglob("*.py"))


# --- the runs ----------------------------------------------------------------------------


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """Run one process to its end; its wall time and the peak memory of its largest
    process (its own or any of its children's).

    The peak comes from GNU time, which starts the command from its own small process: a
    child forked from this script would count this script's memory as its own.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss:
            measured_command = [TIME, "-f", "%M", "-o", rss.name, *command] if TIME else command
            start = time.perf_counter()
            process = subprocess.Popen(measured_command, cwd=cwd, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            kilobytes = int(rss.read().split()[-1]) if TIME else usage.ru_maxrss
        out.seek(0)
        err.seek(0)
        measured = Measured(
            seconds=seconds,
            peak_mb=kilobytes / 1024,
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            load=os.getloadavg()[0],
        )
    if measured.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{measured.stderr[-2000:]}")
    return measured


def run_grimp(tree: Path, cache: Path) -> Measured:
    """grimp reads the files of the package found on PYTHONPATH; it imports none of them."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return run([sys.executable, "-c", GRIMP_PROGRAM, PROJECT, str(cache)], cwd=tree, env=env)


def run_tach(tree: Path) -> Measured:
    """`tach map` with no configuration: the project root is the source root."""
    tach = Path(sys.executable).with_name("tach")
    output = tree.parent / "tach-map.json"
    measured = run([str(tach), "map", "-o", str(output)], cwd=tree)
    output.unlink(missing_ok=True)
    return measured


def run_carveout(tree: Path, out: Path, cache: Path, jobs: list[str]) -> Measured:
    command = [sys.executable, "-c", CARVEOUT_PROGRAM, "analyze", str(tree), "--out", str(out)]
    command += ["--cache-dir", str(cache), "--quiet", "--timings", *jobs]
    return run(command, cwd=REPOSITORY)


class edited:
    """Append a comment to one file for the duration of a run, then restore it."""

    def __init__(self, path: Path, number: int) -> None:
        self.path = path
        self.number = number
        self.original = path.read_bytes()

    def __enter__(self) -> None:
        self.path.write_bytes(self.original + f"# benchmark edit {self.number}\n".encode())

    def __exit__(self, *_: object) -> None:
        self.path.write_bytes(self.original)


def stage_times(stderr: str) -> dict[str, float]:
    """The stage lines `--timings` prints: `  name  1.234 s`."""
    found = {}
    for line in stderr.splitlines():
        match = re.fullmatch(r"\s*(\w+)\s+([\d.]+) s", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def same_analysis(cold: Path, warm: Path) -> bool:
    return (cold / "analysis.json").read_bytes() == (warm / "analysis.json").read_bytes()


def diagram_size(out: Path) -> dict[str, int]:
    """Nodes and links drawn in the report's module diagram (its DOT source)."""
    text = (out / "graph.dot").read_text(encoding="utf-8")
    return {"nodes": len(re.findall(r"^\s+\"[^\"]+\" \[", text, re.M)), "links": text.count("->")}


def load_text() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- the table -----------------------------------------------------------------------------


def summarise(
    series: dict[str, Series],
    grimp_inner: dict[str, list[float]],
    timings: dict[str, list[dict[str, float]]],
    scaling: dict[int, Series],
    same_as_cold: list[bool],
    same_unfiltered: list[bool],
    diagram: dict[str, int],
) -> dict[str, object]:
    median = {name: s.median for name, s in series.items()}
    peak = max(series[name].peak_mb for name in ("cold", "warm", "changed"))
    rows = [
        ("cold / grimp cold", median["cold"], median["grimp_cold"], GOALS["cold"]),
        ("warm / grimp warm", median["warm"], median["grimp_warm"], GOALS["warm"]),
        ("one changed / warm", median["changed"], median["warm"], GOALS["changed"]),
    ]
    lines = ["", f"{'measure':<22}{'carveout':>10}{'against':>10}{'ratio':>8}{'goal':>8}  met"]
    numbers: dict[str, object] = {"median_seconds": median, "peak_mb": peak}
    for label, ours, theirs, goal in rows:
        ratio = ours / theirs
        lines.append(
            f"{label:<22}{ours:>9.2f}s{theirs:>9.2f}s{ratio:>8.2f}{goal:>8.2f}  "
            f"{'yes' if ratio <= goal else 'NO'}"
        )
        numbers[label] = ratio
    lines.append(
        f"{'peak memory (MB)':<22}{peak:>10.0f}{'':>10}{'':>8}{GOALS['memory_mb']:>8.0f}"
        f"  {'yes' if peak <= GOALS['memory_mb'] else 'NO'}"
    )
    if scaling:
        base = scaling[1].median
        for copies in (2, 4):
            ratio = scaling[copies].median / scaling[copies // 2].median
            lines.append(
                f"{f'{copies}x / {copies // 2}x code (cold)':<22}"
                f"{scaling[copies].median:>9.2f}s{scaling[copies // 2].median:>9.2f}s"
                f"{ratio:>8.2f}{GOALS['scaling']:>8.2f}  "
                f"{'yes' if ratio <= GOALS['scaling'] else 'NO'}"
            )
            numbers[f"{copies}x/{copies // 2}x"] = ratio
        numbers["scaling_seconds"] = {c: s.median for c, s in scaling.items()}
        lines.append(
            f"{'4x / 1x code (cold)':<22}{scaling[4].median / base:>28.2f}"
            f"{GOALS['scaling'] ** 2:>8.2f}"
        )

    lines += ["", "medians over the rounds (min-max), seconds, and peak memory (MB):"]
    for name, s in series.items():
        lines.append(f"  {name:<12}{s.median:>8.2f}  ({s.spread()})  {s.peak_mb:>6.0f} MB")
    lines.append(
        f"  grimp's build_graph call alone: cold {statistics.median(grimp_inner['cold']):.2f}"
        f" s, warm {statistics.median(grimp_inner['warm']):.2f} s"
    )
    lines += ["", "carveout stages, median seconds (cold / warm / one changed / warm unfiltered):"]
    for stage in timings["cold"][0]:
        values = [
            statistics.median(t.get(stage, 0.0) for t in timings[k])
            for k in ("cold", "warm", "changed", "unfiltered")
        ]
        lines.append(f"  {stage:<10}" + "".join(f"{v:>9.2f}" for v in values))
    lines.append("")
    lines.append(f"warm analysis.json identical to cold: {all(same_as_cold)}")
    lines.append(
        f"warm analysis.json identical without the pre-filter (--no-prefilter): "
        f"{all(same_unfiltered)}"
    )
    lines.append(f"module diagram: {diagram['nodes']} nodes, {diagram['links']} links")
    lines.append(f"load average at the end: {load_text()}")
    numbers.update(
        same_as_cold=all(same_as_cold),
        same_without_prefilter=all(same_unfiltered),
        diagram=diagram,
        stage_medians={
            k: {s: statistics.median(t.get(s, 0.0) for t in v) for s in v[0]}
            for k, v in timings.items()
        },
    )
    return {"table": "\n".join(lines), "numbers": numbers}


if __name__ == "__main__":
    raise SystemExit(main())
