"""The detector catalogue as frozen records: AI SDKs, AI HTTP endpoints, model families.

The catalogue is data (TOML in `analyzers/`, plus a user's extra file); the feature stage
matches facts against these records and never against names spelt in code.
"""

from __future__ import annotations

from dataclasses import dataclass

from carveout.domain.model import Capability


@dataclass(frozen=True, slots=True)
class CallRule:
    """A pattern over normalised qualified call names that marks an AI capability.

    Patterns are dotted globs: `*` matches one segment, `**` any number of segments (none
    included), and a segment ending in `()` stands for an instance made by that
    constructor (`openai.OpenAI().images.generate`); `Name(arg)` also requires the
    constructor's first literal argument (`boto3.client(bedrock-runtime).invoke_model`).
    `argument` is a regular expression one literal argument of the call must match
    (a pipeline's task name). With `from_model`, capabilities come first from model names
    among the call's literal arguments, and `capabilities` is the fallback.
    """

    pattern: str
    capabilities: tuple[Capability, ...]
    argument: str | None = None
    from_model: bool = False


@dataclass(frozen=True, slots=True)
class Sdk:
    """One AI library: the import names it owns, its client constructors and its calls.

    `clients` are qualified constructors whose instances carry the SDK's methods (their
    module-level instances are tracked across modules). `local` marks libraries that run
    the model in-process: every capability they give comes with local inference.
    """

    name: str
    provider: str
    modules: tuple[str, ...]
    calls: tuple[CallRule, ...]
    clients: tuple[str, ...] = ()
    local: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An AI HTTP endpoint: a regular expression searched in URLs and URL templates.

    Templates keep "{}" for the holes of f-strings (`"{}/v1/chat/completions"`).
    """

    name: str
    pattern: str
    capabilities: tuple[Capability, ...]
    provider: str


@dataclass(frozen=True, slots=True)
class ModelFamily:
    """A family of model names, matched at the start of a normalised model name.

    Normalising lowercases the literal and drops a hub owner (`meta-llama/`) and a cloud
    vendor prefix (`anthropic.` in Bedrock ids); families are tried in catalogue order
    and the first match wins, so specific families come before general ones.
    """

    name: str
    pattern: str
    provider: str
    capabilities: tuple[Capability, ...]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Everything the feature stage matches against, with the files it came from.

    `http_clients` are the top-level modules (or dotted prefixes) whose calls are raw
    HTTP; `sources` names the files merged, built-in first.
    """

    sdks: tuple[Sdk, ...]
    endpoints: tuple[Endpoint, ...]
    models: tuple[ModelFamily, ...]
    http_clients: tuple[str, ...]
    sources: tuple[str, ...] = ()

    def sdk_for(self, qualified: str) -> Sdk | None:
        """The SDK owning a qualified name by its import prefix, longest prefix first."""
        best: Sdk | None = None
        best_length = -1
        for sdk in self.sdks:
            for module in sdk.modules:
                if (qualified == module or qualified.startswith(module + ".")) and len(
                    module
                ) > best_length:
                    best, best_length = sdk, len(module)
        return best
