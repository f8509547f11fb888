"""Boundary proposal on small hand-built graphs: seeds, the cap, growth, metrics, surface."""

from __future__ import annotations

import pytest

from carveout.domain.facts import Guard, Origin
from carveout.domain.model import Capability, Coupling, Edge, Evidence, Severity, SurfaceName
from carveout.stages.propose import MONOLITH, partition_metrics, propose_services, service_surface
from helpers_propose import (
    direct,
    imports,
    metric,
    modules,
    orchestrating,
    parts_of,
    reason_of,
)

CHAT = Capability.CHAT
EMBEDDINGS = Capability.EMBEDDINGS
IMAGE = Capability.IMAGE


# --- seeds and the cap -----------------------------------------------------------------


def test_a_capability_core_stays_in_one_service() -> None:
    proposal = propose_services(
        modules("app.chat.client", "app.chat.stream", "app.images.gen", "app.web"),
        imports(("app.web", "app.chat.client", 1), ("app.web", "app.images.gen", 1)),
        (
            direct("app.chat.client", CHAT),
            direct("app.chat.stream", CHAT),
            direct("app.images.gen", IMAGE),
        ),
        (),
    )

    assert [s.name for s in proposal.services] == ["chat", "image_generation"]
    chat = proposal.services[0]
    assert chat.modules == ("app.chat.client", "app.chat.stream")
    assert chat.ai_capabilities == (CHAT,)
    assert chat.surface == ()
    assert reason_of(proposal, "app.chat.stream") == "seed of chat: calls a chat provider directly"
    assert reason_of(proposal, "app.images.gen") == (
        "seed of image_generation: calls an image_generation provider directly"
    )
    assert proposal.monolith == ("app.web",)


def test_a_module_in_two_cores_joins_the_capabilities_into_one_service() -> None:
    proposal = propose_services(
        modules("ai.both", "ai.chat", "ai.vectors"),
        (),
        (
            direct("ai.both", CHAT, EMBEDDINGS),
            direct("ai.chat", CHAT),
            direct("ai.vectors", EMBEDDINGS),
        ),
        (),
    )

    assert [s.name for s in proposal.services] == ["chat_and_embeddings"]
    assert proposal.services[0].modules == ("ai.both", "ai.chat", "ai.vectors")
    assert proposal.services[0].ai_capabilities == (CHAT, EMBEDDINGS)
    assert reason_of(proposal, "ai.both") == (
        "seed of chat_and_embeddings: calls chat and embeddings_retrieval providers "
        "directly; chat and embeddings_retrieval share core 1 module ai.both, so they form one "
        "service"
    )


def _three_capabilities() -> tuple:
    """chat and embeddings share 3 import statements; image reaches chat with 1."""
    return (
        modules("ai.chat", "ai.embed", "ai.image"),
        imports(
            ("ai.chat", "ai.embed", 2), ("ai.embed", "ai.chat", 1), ("ai.image", "ai.chat", 1)
        ),
        (direct("ai.chat", CHAT), direct("ai.embed", EMBEDDINGS), direct("ai.image", IMAGE)),
        (),
    )


def test_the_cap_merges_the_most_connected_cores_and_says_so() -> None:
    proposal = propose_services(*_three_capabilities(), max_services=2)

    assert [s.name for s in proposal.services] == [
        "chat_and_embeddings",
        "image_generation",
    ]
    note = (
        "chat and embeddings_retrieval were merged to hold max_services=2 "
        "(3 candidate services before): their cores share 3 import statements, "
        "the most of any pair"
    )
    assert reason_of(proposal, "ai.chat") == (
        f"seed of chat_and_embeddings: calls a chat provider directly; {note}"
    )
    assert reason_of(proposal, "ai.embed").endswith(note)
    assert "merged" not in reason_of(proposal, "ai.image")


def test_a_cap_of_one_merges_everything_into_one_named_service() -> None:
    proposal = propose_services(*_three_capabilities(), max_services=1)

    assert [s.name for s in proposal.services] == ["chat_embeddings_and_image"]
    assert proposal.services[0].name.isidentifier()
    assert proposal.monolith == ()
    # The second merge joins image (1 statement to chat) into the merged pair.
    assert reason_of(proposal, "ai.image").endswith(
        "chat_and_embeddings and image_generation were merged to hold "
        "max_services=1 (2 candidate services before): their cores share 1 import statement, "
        "the most of any pair"
    )


def test_unconnected_cores_merge_the_smallest_pair_under_the_cap() -> None:
    proposal = propose_services(
        modules("a.chat", "a.chat2", "a.embed", "a.image"),
        (),
        (
            direct("a.chat", CHAT),
            direct("a.chat2", CHAT),
            direct("a.embed", EMBEDDINGS),
            direct("a.image", IMAGE),
        ),
        (),
        max_services=2,
    )

    assert [s.name for s in proposal.services] == [
        "chat",
        "embeddings_and_image",
    ]
    assert "no two cores are connected, so the smallest pair was merged" in reason_of(
        proposal, "a.image"
    )


def test_max_services_zero_proposes_nothing_and_negative_is_refused() -> None:
    proposal = propose_services(*_three_capabilities(), max_services=0)

    assert proposal.services == ()
    assert proposal.monolith == ("ai.chat", "ai.embed", "ai.image")
    assert reason_of(proposal, "ai.chat") == (
        "stays in the monolith: max_services=0, so no service is proposed "
        "(calls a chat provider directly)"
    )
    with pytest.raises(ValueError, match="max_services must be 0 or more, got -1"):
        propose_services(*_three_capabilities(), max_services=-1)


def test_a_capability_without_a_direct_module_is_seeded_by_its_orchestration() -> None:
    proposal = propose_services(
        modules("a.agent", "a.chat", "a.tools"),
        imports(("a.agent", "a.tools", 1)),
        (direct("a.chat", CHAT), orchestrating("a.agent", Capability.AGENTS)),
        (),
    )

    assert [s.name for s in proposal.services] == ["agents_tool_use", "chat"]
    assert reason_of(proposal, "a.agent") == (
        "seed of agents_tool_use: orchestrates agents_tool_use, and no module calls its "
        "provider directly"
    )
    assert parts_of(proposal.placements)["a.tools"] == "agents_tool_use"


# --- growth ----------------------------------------------------------------------------


def _shop() -> tuple:
    """chat and image cores, a prompt helper chain used by chat, shared settings, a web app."""
    return (
        modules(
            "shop.chat.bot",
            "shop.chat.prompts",
            "shop.chat.snippets",
            "shop.images.gen",
            "shop.settings",
            "shop.web",
            "shop.orders",
        ),
        imports(
            ("shop.chat.bot", "shop.chat.prompts", 2),
            ("shop.chat.prompts", "shop.chat.snippets", 1),
            ("shop.chat.bot", "shop.settings", 1),
            ("shop.images.gen", "shop.settings", 1),
            ("shop.web", "shop.settings", 2),
            ("shop.web", "shop.chat.bot", 3),
            ("shop.web", "shop.images.gen", 1),
            ("shop.web", "shop.orders", 2),
            ("shop.orders", "shop.settings", 1),
        ),
        (direct("shop.chat.bot", CHAT), direct("shop.images.gen", IMAGE)),
        (),
    )


def test_a_helper_used_only_by_one_ai_module_joins_it_and_so_does_its_own_helper() -> None:
    proposal = propose_services(*_shop())
    parts = parts_of(proposal.placements)

    assert parts["shop.chat.prompts"] == "chat"
    assert parts["shop.chat.snippets"] == "chat"
    assert reason_of(proposal, "shop.chat.prompts") == (
        "joined chat: 3 of 3 import statements connect it to the service, "
        "which imports it 2 times (the monolith 0 times)"
    )
    assert reason_of(proposal, "shop.chat.snippets") == (
        "joined chat: 1 of 1 import statement connects it to the service, "
        "which imports it 1 time (the monolith 0 times)"
    )


def test_a_shared_settings_module_stays_in_the_monolith() -> None:
    proposal = propose_services(*_shop())

    assert parts_of(proposal.placements)["shop.settings"] == MONOLITH
    assert reason_of(proposal, "shop.settings") == (
        "stays in the monolith: used by 3 parts "
        "(shared infrastructure: chat, image_generation, monolith)"
    )
    assert proposal.monolith == ("shop.orders", "shop.settings", "shop.web")


def test_a_module_the_monolith_imports_more_than_the_service_stays() -> None:
    # util imports the chat core 3 times, but only the web app imports util.
    proposal = propose_services(
        modules("a.chat", "a.util", "a.web"),
        imports(("a.util", "a.chat", 3), ("a.web", "a.util", 1)),
        (direct("a.chat", CHAT),),
        (),
    )

    assert parts_of(proposal.placements)["a.util"] == MONOLITH
    assert reason_of(proposal, "a.util") == (
        "stays in the monolith: the monolith imports it 1 time, chat only 0, "
        "although 3 of 4 import statements connect it to chat"
    )


def test_a_module_with_half_its_weight_to_a_service_stays() -> None:
    proposal = propose_services(
        modules("a.chat", "a.half", "a.other"),
        imports(("a.chat", "a.half", 1), ("a.half", "a.other", 1)),
        (direct("a.chat", CHAT),),
        (),
    )

    assert parts_of(proposal.placements)["a.half"] == MONOLITH
    assert reason_of(proposal, "a.half") == (
        "stays in the monolith: only 1 of 2 import statements connect it to chat"
    )


def test_an_orchestration_module_joins_only_a_service_of_its_capability() -> None:
    proposal = propose_services(
        modules("a.chat", "a.image", "a.chat_routes", "a.image_routes"),
        imports(("a.chat_routes", "a.chat", 2), ("a.image_routes", "a.chat", 2)),
        (
            direct("a.chat", CHAT),
            direct("a.image", IMAGE),
            orchestrating("a.chat_routes", CHAT),
            orchestrating("a.image_routes", IMAGE),
        ),
        (),
    )
    parts = parts_of(proposal.placements)

    # a module that exists only to serve one capability moves with that capability,
    # whatever its imports say
    assert parts["a.chat_routes"] == "chat"
    assert reason_of(proposal, "a.chat_routes") == (
        "seed of chat: exists only to serve chat (orchestration)"
    )
    assert parts["a.image_routes"] == "image_generation"
    assert reason_of(proposal, "a.image_routes") == (
        "seed of image_generation: exists only to serve image_generation (orchestration)"
    )


def test_a_module_orchestrating_several_capabilities_is_placed_by_its_imports() -> None:
    proposal = propose_services(
        modules("a.chat", "a.image", "a.hub"),
        imports(("a.hub", "a.chat", 3), ("a.hub", "a.image", 1)),
        (
            direct("a.chat", CHAT),
            direct("a.image", IMAGE),
            orchestrating("a.hub", CHAT),
            orchestrating("a.hub", IMAGE),
        ),
        (),
    )

    assert parts_of(proposal.placements)["a.hub"] == "chat"
    assert reason_of(proposal, "a.hub").startswith("joined chat: 3 of 4 import statements")


def test_only_runtime_edges_between_project_modules_count() -> None:
    # Type-checking, implicit-parent and external edges would pull `a.types` into chat.
    edges = (
        *imports(("a.chat", "a.types", 3), guard=Guard.TYPE_CHECKING),
        Edge("a.chat", "a", 1, origin=Origin.IMPLICIT_PARENT),
        Edge("a.chat", "openai", 2, external=True),
        Edge("a.chat", "not.in.project", 3),
        *imports(("a.web", "a.types", 1)),
    )
    proposal = propose_services(
        modules("a", "a.chat", "a.types", "a.web"), edges, (direct("a.chat", CHAT),), ()
    )
    parts = parts_of(proposal.placements)

    assert parts["a.types"] == MONOLITH
    assert parts["a"] == MONOLITH
    assert reason_of(proposal, "a") == (
        "stays in the monolith: no runtime import statement connects it to another module"
    )
    assert metric(proposal, "ICP") == 0.0  # the one runtime edge stays inside the monolith


# --- blockers --------------------------------------------------------------------------


def test_blockers_name_couplings_and_imports_across_the_boundary() -> None:
    inputs = _shop()
    couplings = (
        Coupling(
            kind="import-cycle",
            severity=Severity.HIGH,
            modules=("shop.chat.bot", "shop.chat.prompts", "shop.orders"),
            evidence=(Evidence("shop/orders.py", 3),),
            why="a cycle",
            fix="break it",
        ),
        Coupling(
            kind="shared-table",
            severity=Severity.MEDIUM,
            modules=("shop.orders", "shop.web"),  # monolith only: not a blocker
            evidence=(),
            why="same table",
            fix="own it",
        ),
    )
    proposal = propose_services(*inputs[:3], couplings)
    chat = next(s for s in proposal.services if s.name == "chat")

    assert chat.blockers == (
        "3 import statements from the monolith reach its internals",
        "import-cycle with shop.orders (3 modules)",
        "it makes 1 import statement into the monolith (1 module: shop.settings)",
    )
    image = next(s for s in proposal.services if s.name == "image_generation")
    assert image.blockers == (
        "1 import statement from the monolith reaches its internals",
        "it makes 1 import statement into the monolith (1 module: shop.settings)",
    )


# --- metrics ---------------------------------------------------------------------------


def _three_parts() -> tuple:
    """chat {c1, c2}, image {i1}, monolith {m1, m2, m3} once proposed."""
    return (
        modules("c1", "c2", "i1", "m1", "m2", "m3"),
        imports(
            ("c1", "c2", 2),  # inside chat
            ("m1", "m2", 1),  # inside the monolith
            ("m2", "m3", 1),  # inside the monolith
            ("m1", "c1", 1),  # monolith -> chat
            ("i1", "m3", 1),  # image -> monolith
            ("c2", "i1", 2),  # chat -> image
        ),
        (direct("c1", CHAT), direct("c2", CHAT), direct("i1", IMAGE)),
        (),
    )


def test_icp_and_sm_match_the_hand_arithmetic_on_three_parts() -> None:
    proposal = propose_services(*_three_parts())
    assert parts_of(proposal.placements) == {
        "c1": "chat",
        "c2": "chat",
        "i1": "image_generation",
        "m1": MONOLITH,
        "m2": MONOLITH,
        "m3": MONOLITH,
    }

    # All weight: 2 + 1 + 1 + 1 + 1 + 2 = 8; crossing: m1->c1 1 + i1->m3 1 + c2->i1 2 = 4.
    icp = 4 / 8
    # K = 3; N = chat 2, image 1, monolith 3; mu = chat 2, image 0, monolith 2.
    cohesion = (2 / 2**2 + 0 / 1**2 + 2 / 3**2) / 3  # (0.5 + 0 + 0.2222) / 3 = 0.2407
    # sigma: chat-image 2, chat-monolith 1, image-monolith 1; K(K-1)/2 = 3 pairs.
    coupling = (2 / (2 * 2 * 1) + 1 / (2 * 2 * 3) + 1 / (2 * 1 * 3)) / 3  # 0.75 / 3 = 0.25
    assert metric(proposal, "ICP") == round(icp, 4) == 0.5
    assert metric(proposal, "SM") == round(cohesion - coupling, 4) == -0.0093
    assert metric(proposal, "services") == 2.0
    assert metric(proposal, "modules_in_services") == 3.0
    assert metric(proposal, "modules_in_monolith") == 3.0
    icp_metric = next(m for m in proposal.metrics if m.name == "ICP")
    assert icp_metric.better == "lower"
    assert "(4 of 8)" in icp_metric.definition
    sm_metric = next(m for m in proposal.metrics if m.name == "SM")
    assert sm_metric.better == "higher"
    assert "σ_ij/(2·N_i·N_j)" in sm_metric.definition


def test_one_part_uses_the_cohesion_term_alone() -> None:
    proposal = propose_services(
        modules("a", "b", "c"), imports(("a", "b", 2), ("b", "c", 1)), (), ()
    )

    assert proposal.services == ()
    assert metric(proposal, "ICP") == 0.0
    assert metric(proposal, "SM") == round(3 / 3**2, 4) == 0.3333  # mu 3, N 3, K 1


def test_no_edges_gives_zero_metrics_and_places_every_module() -> None:
    proposal = propose_services(modules("a.chat", "a.web"), (), (direct("a.chat", CHAT),), ())

    assert metric(proposal, "ICP") == 0.0
    assert metric(proposal, "SM") == 0.0
    assert parts_of(proposal.placements) == {"a.chat": "chat", "a.web": MONOLITH}
    assert propose_services((), (), (), ()).metrics == partition_metrics({}, ())
    assert metric(partition_metrics({}, ()), "SM") == 0.0


def test_partition_metrics_leaves_an_empty_monolith_out_of_the_parts() -> None:
    metrics = partition_metrics({"a": "chat", "b": "chat"}, imports(("a", "b", 1)))

    assert metric(metrics, "SM") == 0.25  # K = 1: mu 1 / N 2 squared
    assert metric(metrics, "modules_in_monolith") == 0.0


# --- whole-proposal properties ---------------------------------------------------------


def test_every_module_gets_exactly_one_placement() -> None:
    module_list, edges, labels, couplings = _shop()
    duplicated = (*module_list, module_list[0])
    proposal = propose_services(duplicated, edges, labels, couplings)

    placed = [p.module for p in proposal.placements]
    assert placed == sorted({m.name for m in module_list})
    in_services = [m for s in proposal.services for m in s.modules]
    assert sorted(in_services + list(proposal.monolith)) == placed
    assert all(p.reason for p in proposal.placements)
    assert all(
        any(ch.isdigit() for ch in p.reason) or "seed" in p.reason for p in proposal.placements
    )


def test_the_proposal_is_the_same_for_any_input_order_and_seed() -> None:
    module_list, edges, labels, couplings = _shop()
    first = propose_services(module_list, edges, labels, couplings)

    assert propose_services(module_list, edges, labels, couplings) == first
    reordered = propose_services(module_list[::-1], edges[::-1], labels[::-1], couplings, seed=7)
    assert reordered == first
    assert repr(reordered) == repr(first)


# --- surface ---------------------------------------------------------------------------


def test_service_surface_lists_the_names_outside_modules_import() -> None:
    service = {"app.chat", "app.chat.bot", "app.chat.prompts"}
    imports_by_module = {
        "app.web": [("app.chat.bot", "answer", 3), ("app.settings", "DEBUG", 4)],
        "app.api": [
            ("app.chat.bot", "answer", 1),
            ("app.chat.bot", "Reply", 2),
            ("app.chat.prompts", None, 5),  # import app.chat.prompts
        ],
        "app.admin": [("app.chat", "bot", 7), ("app.chat.bot", "answer", 9)],
        "app.chat.bot": [("app.chat.prompts", "SYSTEM", 1)],  # inside: not surface
    }

    assert service_surface(service, imports_by_module) == (
        SurfaceName("app.chat.bot", "*", ("app.admin",)),  # from app.chat import bot
        SurfaceName("app.chat.bot", "Reply", ("app.api",)),
        SurfaceName("app.chat.bot", "answer", ("app.admin", "app.api", "app.web")),
        SurfaceName("app.chat.prompts", "*", ("app.api",)),
    )
    assert service_surface(set(), imports_by_module) == ()


def test_blockers_name_imports_between_two_services() -> None:
    proposal = propose_services(
        modules("a.chat", "a.image"),
        imports(("a.image", "a.chat", 1)),
        (direct("a.chat", CHAT), direct("a.image", IMAGE)),
        (),
    )
    chat, image = proposal.services

    assert chat.blockers == ("1 import statement from image_generation reaches its internals",)
    assert image.blockers == ("it makes 1 import statement into chat (1 module: a.chat)",)
