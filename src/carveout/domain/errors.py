"""One exception root, user mistakes apart from carveout's own bugs."""

from __future__ import annotations

from carveout.domain.wording import plural


class CarveoutError(Exception):
    """Root of every error carveout raises on purpose."""


class UsageError(CarveoutError):
    """The user asked for something that cannot be done: a missing path, a bad setting."""


class ConfigError(UsageError):
    """`[tool.carveout]` or a catalogue file is wrong; the message lists every problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} has {plural(len(problems), 'problem')}:\n{listed}")


class InternalError(CarveoutError):
    """A bug in carveout itself; the message asks the user to report it."""
