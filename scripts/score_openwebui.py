"""Score carveout's AI-feature labels on Open WebUI 0.12.4 against labels written by hand.

The labels (`samples/open-webui/labels.toml`) were written from the code before carveout
ran on it. This script runs the analysis in-process on the unpacked wheel (never installed,
imported or run), compares the modules labelled with each capability to the hand labels,
and prints precision and recall per capability in a strict reading (only the modules that
implement a capability) and a lenient one (modules that merely feed the RAG pipeline count
for embeddings_retrieval too). It lists every false positive and false negative with what
carveout saw (the provider call, or the module's place in the call graph) and what the
labels say. The same text goes to `docs/openwebui-scores.md`; reruns give the same bytes.

Usage: python scripts/score_openwebui.py [--source DIR] [--labels FILE] [--output FILE]
The unpacked wheel comes from `scripts/run_openwebui.sh`; it is not part of the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, installed as tomli
    import tomli as tomllib

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "src"))

from carveout.adapters.catalogue import load_catalogue  # noqa: E402
from carveout.adapters.config import load_settings  # noqa: E402
from carveout.application.analyze import AnalyzeRequest, Timings, analyze  # noqa: E402
from carveout.application.collect import collect_facts  # noqa: E402
from carveout.domain.model import Analysis, Capability  # noqa: E402
from carveout.stages.discover import discover  # noqa: E402
from carveout.stages.features import CallProfile, call_profiles  # noqa: E402
from carveout.stages.resolve import ProjectIndex  # noqa: E402

DEFAULT_SOURCE = REPOSITORY / ".work" / "open-webui-0.12.4"
DEFAULT_LABELS = REPOSITORY / "samples" / "open-webui" / "labels.toml"
DEFAULT_OUTPUT = REPOSITORY / "docs" / "openwebui-scores.md"
READINGS = ("strict", "lenient")
PREFIX = "open_webui."


@dataclass(frozen=True)
class Truth:
    """The hand labels: per capability, module -> justification; the supporting modules
    (counted in the lenient reading only); modules deliberately left out, with why."""

    implementing: Mapping[Capability, Mapping[str, str]]
    supporting: Mapping[Capability, Mapping[str, str]]
    not_features: Mapping[str, str]

    def expected(self, capability: Capability, reading: str) -> dict[str, str]:
        found = dict(self.implementing.get(capability, {}))
        if reading == "lenient":
            found.update(self.supporting.get(capability, {}))
        return found


@dataclass(frozen=True)
class Score:
    """One capability in one reading: the expected and found module sets."""

    capability: Capability
    reading: str
    expected: frozenset[str]
    found: frozenset[str]

    @property
    def true_positives(self) -> frozenset[str]:
        return self.expected & self.found

    @property
    def false_positives(self) -> list[str]:
        return sorted(self.found - self.expected)

    @property
    def false_negatives(self) -> list[str]:
        return sorted(self.expected - self.found)

    @property
    def precision(self) -> float | None:
        return len(self.true_positives) / len(self.found) if self.found else None

    @property
    def recall(self) -> float | None:
        return len(self.true_positives) / len(self.expected) if self.expected else None


@dataclass(frozen=True)
class Seen:
    """What carveout saw, to explain each miss: labels by capability (module -> "direct"
    or "orchestration"), provider-call evidence, and each module's call profile."""

    found: Mapping[Capability, Mapping[str, str]]
    evidence: Mapping[tuple[str, Capability], list[str]]
    profiles: Mapping[str, CallProfile]
    importers: Mapping[str, set[str]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not (args.source / "open_webui").is_dir():
        print(
            f"no unpacked Open WebUI at {args.source}: run scripts/run_openwebui.sh",
            file=sys.stderr,
        )
        return 2

    truth = load_truth(args.labels)
    timings = Timings()
    started = time.perf_counter()
    run = analyze(AnalyzeRequest(path=args.source, use_cache=False), timings=timings)
    print(
        f"analysis took {time.perf_counter() - started:.1f} s "
        f"(features {timings.stages.get('features', 0.0):.2f} s)",
        file=sys.stderr,
    )
    found = labelled_modules(run.analysis)
    seen = Seen(
        found,
        _evidence_by_module(run.analysis),
        _profiles(args.source),
        _importers(run.analysis),
    )
    scores = [
        Score(c, reading, frozenset(truth.expected(c, reading)), frozenset(found.get(c, {})))
        for c in Capability
        for reading in READINGS
        if truth.expected(c, reading) or found.get(c)
    ]
    text = render(scores, truth, seen, _relative(args.labels))
    print(text, end="")
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {_relative(args.output)}", file=sys.stderr)
    return 0


def load_truth(path: Path) -> Truth:
    """Read labels.toml: one table per capability, `[supporting.<capability>]` and
    `[not_features]`; `[meta]` is ignored. A table that names no capability is an error."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    implementing: dict[Capability, dict[str, str]] = {}
    supporting: dict[Capability, dict[str, str]] = {}
    for key, table in data.items():
        if key in ("meta", "not_features"):
            continue
        if key == "supporting":
            for capability, modules in table.items():
                supporting[Capability(capability)] = dict(modules)
            continue
        implementing[Capability(key)] = dict(table)
    return Truth(implementing, supporting, dict(data.get("not_features", {})))


def labelled_modules(analysis: Analysis) -> dict[Capability, dict[str, str]]:
    """Per capability, module -> how carveout labelled it ("direct" or "orchestration").
    The feature records must name the same modules; a mismatch is a bug worth failing on."""
    found: dict[Capability, dict[str, str]] = defaultdict(dict)
    for label in analysis.labels:
        for capability in label.capabilities:
            kind = "direct" if label.direct else "orchestration"
            found[capability].setdefault(label.module, kind)
    for feature in analysis.features:
        if set(found.get(feature.capability, {})) != set(feature.modules):
            raise SystemExit(f"labels and the {feature.capability.value} feature disagree")
    return found


def render(scores: Sequence[Score], truth: Truth, seen: Seen, labels_path: str) -> str:
    """The markdown report: a table of precision and recall, then each capability's misses
    (the lenient list only where it differs from the strict one)."""
    lines = [
        "# Open WebUI 0.12.4: AI-feature labels scored against hand labels",
        "",
        f"Generated by `scripts/score_openwebui.py` from `{labels_path}` (written from",
        "the code before carveout ran on it); do not edit by hand. The unit is the module: a",
        "module found with a capability (direct: it calls a provider; orchestration: it",
        "exists to serve the capability) is a true positive when the labels list it under",
        "that capability. The strict reading counts only the modules that implement a",
        "capability; the lenient one also counts `[supporting.*]` modules (document loaders",
        "and web-search connectors feeding the RAG pipeline) as embeddings_retrieval. In the",
        "strict reading a supporting module that carveout labels is a false positive.",
        "",
        "| capability | reading | expected | found | TP | FP | FN | precision | recall |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for score in scores:
        lines.append(
            f"| {score.capability.value} | {score.reading} | {len(score.expected)} "
            f"| {len(score.found)} | {len(score.true_positives)} "
            f"| {len(score.false_positives)} | {len(score.false_negatives)} "
            f"| {_ratio(score.precision)} | {_ratio(score.recall)} |"
        )
    lines += _totals(scores)
    lines += [
        "",
        "Reasons read: `direct` quotes the first provider call found; otherwise `units`",
        "counts the module's public top-level functions and classes that work for an AI",
        "capability (reach a provider call within three calls, or help only such units),",
        "`use` the call sites in other modules that reach such a unit, `callers` names the",
        "calling modules and `importers` the importing ones; then what the labels say.",
    ]

    strict = {s.capability: s for s in scores if s.reading == "strict"}
    for score in scores:
        same = strict[score.capability]
        if not score.false_positives and not score.false_negatives:
            continue
        if score.reading == "lenient" and (
            score.false_positives,
            score.false_negatives,
        ) == (same.false_positives, same.false_negatives):
            continue
        lines += ["", f"## {score.capability.value} ({score.reading})", ""]
        for module in score.false_positives:
            why = _false_positive_reason(module, score.capability, truth, seen)
            lines.append(f"- FP `{module}`: {why}")
        for module in score.false_negatives:
            why = _false_negative_reason(module, score.capability, score.reading, truth, seen)
            lines.append(f"- FN `{module}`: {why}")
    return "\n".join(lines) + "\n"


# --- reasons ---------------------------------------------------------------------------------


def _false_positive_reason(module: str, capability: Capability, truth: Truth, seen: Seen) -> str:
    """What carveout saw, then what the labels say about the module."""
    if seen.found[capability][module] == "direct":
        calls = seen.evidence.get((module, capability), [])
        said = f"direct, {calls[0]}" if calls else "direct"
        if len(calls) > 1:
            said += f" (+{len(calls) - 1} more)"
    else:
        said = f"orchestration; {_profile(seen.profiles.get(module))}"
        said += f", importers {_names(seen.importers.get(module, set()))}"
    labelled = [c.value for c, modules in truth.implementing.items() if module in modules]
    supporting = [c.value for c, modules in truth.supporting.items() if module in modules]
    if module in truth.not_features:
        return f"{said}; labels: not a feature ({truth.not_features[module]})"
    if supporting:
        return f"{said}; labels: supporting {', '.join(supporting)} only"
    if labelled:
        return f"{said}; labels: {', '.join(labelled)} only"
    return f"{said}; labels: not listed"


def _false_negative_reason(
    module: str, capability: Capability, reading: str, truth: Truth, seen: Seen
) -> str:
    """What carveout labelled the module with instead, its call profile, then the label's
    justification."""
    other = sorted(
        f"{c.value} ({modules[module]})" for c, modules in seen.found.items() if module in modules
    )
    said = f"found as {', '.join(other)}" if other else "not labelled"
    profile = _profile(seen.profiles.get(module))
    return f"{said}; {profile}; labels: {truth.expected(capability, reading)[module]}"


def _profile(profile: CallProfile | None) -> str:
    if profile is None:
        return "no call profile"
    working = ", ".join(f"{c.value} {n}" for c, n in profile.working)
    return (
        f"units {profile.working_units}/{profile.public_units}"
        + (f" ({working})" if working else "")
        + f", use {profile.ai_call_sites}/{profile.call_sites}"
        + (f", callers {_names(profile.callers)}" if profile.callers else "")
    )


def _names(modules: Sequence[str] | set[str]) -> str:
    """Up to four module names without the package prefix, then how many more."""
    ordered = sorted(modules)
    text = ", ".join(_short(m) for m in ordered[:4]) or "none"
    return text + (f" +{len(ordered) - 4}" if len(ordered) > 4 else "")


def _profiles(source: Path) -> dict[str, CallProfile]:
    """The call profiles of the project's modules (a second scan: the analysis keeps no
    index, and its numbers do not depend on this one)."""
    settings = load_settings(source, {})
    catalogue = load_catalogue(Path(settings.catalogue) if settings.catalogue else None)
    project = discover(source, settings)
    collected = collect_facts(project, cache=None)
    return call_profiles(ProjectIndex(project, collected.facts), catalogue)


def _evidence_by_module(analysis: Analysis) -> dict[tuple[str, Capability], list[str]]:
    module_of = {f.path: f.module for f in analysis.project.files}
    found: dict[tuple[str, Capability], list[str]] = defaultdict(list)
    for feature in analysis.features:
        for item in feature.evidence:
            module = module_of.get(item.path)
            if module is not None:
                text = f"{item.path}:{item.line} `{item.text}`"
                found[(module, feature.capability)].append(text)
    return found


def _importers(analysis: Analysis) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for edge in analysis.edges:
        if edge.is_runtime and edge.source != edge.target:
            found[edge.target].add(edge.source)
    return found


def _totals(scores: Sequence[Score]) -> list[str]:
    """Micro-averaged precision and recall over every (module, capability) pair."""
    lines = []
    for reading in READINGS:
        chosen = [s for s in scores if s.reading == reading]
        tp = sum(len(s.true_positives) for s in chosen)
        found = sum(len(s.found) for s in chosen)
        expected = sum(len(s.expected) for s in chosen)
        precision = tp / found if found else None
        recall = tp / expected if expected else None
        lines.append(
            f"| **all** | {reading} | {expected} | {found} | {tp} | {found - tp} "
            f"| {expected - tp} | {_ratio(precision)} | {_ratio(recall)} |"
        )
    return lines


def _short(module: str) -> str:
    return module[len(PREFIX) :] if module.startswith(PREFIX) else module


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPOSITORY).as_posix()
    except ValueError:
        return path.as_posix()


if __name__ == "__main__":
    raise SystemExit(main())
