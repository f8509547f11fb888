"""Counted nouns in messages and reports, in one place: "1 service", "2 services"."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`count` and `noun`, the noun in the plural unless `count` is 1.

    The plural is `plural_noun` when given, else `noun` + "s" ("1 import edge",
    "2 import edges"; `plural(2, "module or rule", "modules or rules")`).
    """
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count} {word}"
