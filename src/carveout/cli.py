"""The command line: parse options, call one use case, print the talk to stderr.

stdout carries products (`couplings --format json`); progress, summaries and errors go to
stderr. `main(argv) -> int` runs in-process for tests.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text

from carveout import __version__
from carveout.adapters.output_folder import check_writable
from carveout.application.analyze import AnalysisRun, AnalyzeRequest, Timings, analyze
from carveout.application.init_files import list_missing_init, write_missing_init
from carveout.application.lifetime import Stopped, stop_signals_raise
from carveout.application.publish import SKIP_REASON_PLURALS, ExitCode, RunSummary, publish
from carveout.domain.errors import UsageError
from carveout.domain.wording import plural

app = typer.Typer(
    name="carveout",
    help="Carve AI features out of a Python monolith: find them and the couplings around "
    "them, propose service boundaries, generate facades, contracts and import-linter rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# markup off: messages carry user text (`[tool.carveout]`, paths) that is not rich markup
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
_state = {"debug": False}

PathArgument = Annotated[
    Path, typer.Argument(help="Project folder (src or flat layout) or package folder.")
]
CacheDir = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time on 3.10
    typer.Option("--cache-dir", help="Cache folder (default: PATH/.carveout_cache)."),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Scan every file; no cache.")]
Jobs = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--jobs", "-j", min=1, help="Scanning processes (default: one per core)."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")]
IncludeTests = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option("--include-tests/--no-include-tests", help="Read test folders too."),
]
IncludeNotebooks = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option("--include-notebooks", help="Read Jupyter notebooks' code cells."),
]
Debug = Annotated[
    bool, typer.Option("--debug", help="Show tracebacks and debug logs (also before the command).")
]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"carveout {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logs.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


@app.command("analyze")
def analyze_command(
    path: PathArgument,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", "-o", help="Output folder (default: reports/<project-name>)."),
    ] = None,
    services: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--services", min=1, help="At most this many proposed services."),
    ] = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    jobs: Jobs = None,
    include_tests: IncludeTests = None,
    include_notebooks: IncludeNotebooks = None,
    timings: Annotated[bool, typer.Option("--timings", help="Print each stage's time.")] = False,
    no_prefilter: Annotated[
        bool,
        typer.Option(
            "--no-prefilter",
            hidden=True,
            help="Run the AI detectors on every module (the same answer, slower; to check).",
        ),
    ] = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Analyse PATH and write the boundary report, contracts and import-linter rules."""
    _debug_on(debug)
    overrides = {
        "max_services": services,
        "include_tests": include_tests,
        "include_notebooks": include_notebooks,
    }
    # an output folder that cannot be written fails now, not after the analysis
    check_writable(out if out is not None else Path("reports"))
    stage_times = Timings()
    run = _run_analysis(
        path, overrides, cache_dir, no_cache, jobs, stage_times, quiet, out, not no_prefilter
    )
    folder = run.out
    with stage_times.stage("report"):
        summary = publish(run, folder)
    if not quiet:
        _print_summary(summary, run, path)
    if timings:
        _print_timings(stage_times)
    raise typer.Exit(summary.exit_code)


@app.command("couplings")
def couplings_command(
    path: PathArgument,
    format: Annotated[
        str, typer.Option("--format", "-f", help="table, json or sarif (to stdout).")
    ] = "table",
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    jobs: Jobs = None,
    include_tests: IncludeTests = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """List the implicit couplings of PATH: a table, JSON or SARIF 2.1.0 on stdout."""
    _debug_on(debug)
    format = format.lower()
    if format not in ("table", "json", "sarif"):
        raise UsageError(f"unknown format '{format}' (use table, json or sarif)")
    overrides = {"include_tests": include_tests}
    run = _run_analysis(path, overrides, cache_dir, no_cache, jobs, Timings(), quiet)
    couplings = run.analysis.couplings
    if format == "sarif":
        from carveout.adapters.sarif import render_sarif

        sys.stdout.write(render_sarif(couplings, tool_version=__version__))
    elif format == "json":
        from carveout.adapters.json_output import analysis_to_dict

        data = analysis_to_dict(run.analysis)["couplings"]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_couplings_table(run)


@app.command("init-files")
def init_files_command(
    path: PathArgument,
    write: Annotated[
        bool,
        typer.Option("--write", help="Create the missing __init__.py files (changes PATH)."),
    ] = False,
    debug: Debug = False,
) -> None:
    """List folders inside packages that lack __init__.py (import-linter cannot see their
    modules); with --write, create them as empty files."""
    _debug_on(debug)
    listed = write_missing_init(path) if write else list_missing_init(path)
    for relative in listed:
        typer.echo(relative)
    verb = "created" if write else "missing"
    err.print(f"{plural(len(listed), '__init__.py file')} {verb}", style="dim")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` and return the exit code instead of exiting."""
    command = typer.main.get_command(app)
    arguments = list(argv) if argv is not None else sys.argv[1:]
    try:
        with stop_signals_raise():
            returned = command.main(args=arguments, prog_name="carveout", standalone_mode=False)
    except Stopped as stopped:
        err.print(f"stopped by {stopped}")
        return 128 + stopped.signal_number
    except UsageError as error:
        err.print(Text.assemble(("error:", "bold red"), f" {error}"))
        return ExitCode.USAGE_ERROR
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        err.print("aborted")
        return ExitCode.USAGE_ERROR
    except OSError as error:
        if error.errno not in _OUTPUT_ERRNOS:
            return _internal_error(error)
        return _output_error(error)
    except Exception as error:
        if _is_usage_error(error):
            error.show(file=sys.stderr)  # type: ignore[attr-defined]
            return ExitCode.USAGE_ERROR
        return _internal_error(error)
    return int(returned) if isinstance(returned, int) else ExitCode.OK


# what writing to stdout or stderr can fail with: files and folders carveout writes itself
# report their errors as usage errors, and unreadable input becomes diagnostics
_OUTPUT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EPIPE", "EIO", "EDQUOT", "EFBIG")
    if hasattr(errno, name)
)


def _output_error(error: OSError) -> int:
    """stdout (or stderr) cannot be written. A reader that went away (`| head`) is no
    error to tell; anything else is told on stderr if it can still be written."""
    with contextlib.suppress(OSError):
        # whatever is left in Python's buffers would fail again at exit: drop it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    if error.errno != errno.EPIPE:
        with contextlib.suppress(OSError):
            err.print(f"error: cannot write the output: {error.strerror or error}")
    return ExitCode.OUTPUT_ERROR


def _is_usage_error(error: Exception) -> bool:
    """Typer's command-line parsing errors. Typer vendors click, so they are matched by
    shape: they show themselves and carry the usage exit code."""
    return hasattr(error, "show") and getattr(error, "exit_code", None) == 2


def _internal_error(error: Exception) -> int:
    """A bug in carveout, told as such; `--debug` shows the traceback instead."""
    if _state["debug"]:
        raise error
    err.print(
        Text.assemble(
            ("internal error:", "bold red"),
            f" {type(error).__name__}: {error}\n"
            "This is a bug in carveout. Rerun with --debug for the traceback and report it.",
        )
    )
    return ExitCode.INTERNAL_ERROR


# --- private helpers --------------------------------------------------------------------


def _debug_on(debug: bool) -> None:
    """`--debug` given after the command name counts as much as before it."""
    if debug:
        _state["debug"] = True


def _run_analysis(
    path: Path,
    overrides: Mapping[str, object],
    cache_dir: Path | None,
    no_cache: bool,
    jobs: int | None,
    stage_times: Timings,
    quiet: bool,
    out: Path | None = None,
    prefilter: bool = True,
) -> AnalysisRun:
    if no_cache and cache_dir is not None:
        raise UsageError("--cache-dir and --no-cache contradict each other: give one")
    logging.basicConfig(
        level=logging.DEBUG if _state["debug"] else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    request = AnalyzeRequest(
        path=path,
        overrides={k: v for k, v in overrides.items() if v is not None},
        cache_dir=cache_dir,
        use_cache=not no_cache,
        jobs=jobs,
        out=out,
        prefilter=prefilter,
    )
    show_progress = not quiet and err.is_terminal
    if not show_progress:
        return analyze(request, timings=stage_times)
    from rich.progress import Progress

    # refreshed by the scan's own calls, not by a thread: the run may fork a second process
    with Progress(console=err, transient=True, auto_refresh=False) as bar:
        task = bar.add_task("scanning", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        return analyze(request, timings=stage_times, progress=progress)


def _print_summary(summary: RunSummary, run: AnalysisRun, path: Path) -> None:
    cached = f" ({summary.files_from_cache} from cache)" if summary.files_from_cache else ""
    err.print(
        f"read {plural(summary.files, 'file')}{cached} -> {plural(summary.modules, 'module')}, "
        f"{plural(summary.edges, 'import edge')} between them"
    )
    err.print(
        f"found {plural(summary.ai_features, 'AI feature')}, "
        f"{plural(summary.couplings, 'coupling')}; proposed {plural(summary.services, 'service')}"
    )
    if summary.skipped:
        what = _joined(
            plural(summary.skipped - summary.skipped_folders, "file"),
            plural(summary.skipped_folders, "folder"),
        )
        reasons = ", ".join(
            plural(n, reason, SKIP_REASON_PLURALS.get(reason))
            for reason, n in summary.skipped_reasons
        )
        err.print(f"skipped {what}: {reasons}")
    if summary.diagnostics:
        kinds = ", ".join(f"{kind}: {n}" for kind, n in summary.diagnostic_kinds)
        err.print(f"{plural(summary.diagnostics, 'diagnostic')} ({kinds})")
    _print_rules_warning(summary, path)
    if run.cache_problem:
        err.print(f"warning: {run.cache_problem}", style="yellow")
    err.print(f"report: {summary.report}", style="bold")


def _print_rules_warning(summary: RunSummary, path: Path) -> None:
    """What import-linter cannot see or check, only when there is something (the way out,
    `init-files`, only when __init__.py files are missing), and why no importlinter.toml
    was written when none was."""
    if summary.unenforceable:
        what = plural(summary.unenforceable, "module or rule", "modules or rules")
        message = f"warning: import-linter cannot see or check {what} (listed in the report)"
        if summary.missing_init_files:
            missing = plural(summary.missing_init_files, "missing __init__.py file")
            message += f"; `carveout init-files {path}` lists the {missing}"
        err.print(message, style="yellow")
    if not summary.rules_written:
        if summary.services:
            why = "import-linter can enforce none of the proposed boundaries (see the report)"
        else:
            why = "no service was proposed"
        err.print(f"no importlinter.toml written: {why}", style="yellow")


def _joined(*counted: str) -> str:
    """Counted nouns joined by "and", leaving out those counted 0."""
    return " and ".join(c for c in counted if not c.startswith("0 ")) or counted[0]


def _print_timings(stage_times: Timings) -> None:
    total = sum(stage_times.stages.values())
    for name, seconds in stage_times.stages.items():
        err.print(f"{name:>10}  {seconds:8.3f} s")
    err.print(f"{'total':>10}  {total:8.3f} s")


def _print_couplings_table(run: AnalysisRun) -> None:
    from rich.table import Table

    # cells are Text, never markup: they carry the project's own names and strings
    table = Table(title=Text(f"couplings in {run.analysis.project.name}"), expand=False)
    for column in ("kind", "severity", "modules", "evidence", "why"):
        table.add_column(column, overflow="fold")
    for coupling in run.analysis.couplings:
        evidence = ", ".join(f"{e.path}:{e.line}" for e in coupling.evidence[:3])
        more = len(coupling.evidence) - 3
        if more > 0:
            evidence += f" (+{more})"
        cells = (
            coupling.kind,
            coupling.severity.value,
            "\n".join(coupling.modules),
            evidence,
            coupling.why,
        )
        table.add_row(*(Text(cell) for cell in cells))
    Console(highlight=False).print(table)
