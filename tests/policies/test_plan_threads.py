"""Plans compiled from two threads at once (a reload's warm-up thread and the event loop)
all compile, and alike. casbin parses its matcher on every question; on CPython 3.11
before 3.11.8, two threads parsing at once failed with SystemError ("AST constructor
recursion depth mismatch"): without the engine's lock this test failed in every run on 3.11.7."""

from __future__ import annotations

import threading

from policies.catalog import default_catalog
from policies.document import default_policy_document
from policies.plan import PolicyEngine, PolicyPlan


def test_given_two_threads_compiling_plans_at_once_then_every_plan_compiles_alike() -> None:
    document = default_policy_document()
    catalog = default_catalog()
    keys = [
        (frozenset({role}), purpose) for role in document.roles for purpose in document.purposes
    ]
    engines = [PolicyEngine(document, catalog, version=2) for _ in range(2)]
    plans: list[list[PolicyPlan]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def compile_all(n: int) -> None:
        start.wait()
        try:
            plans[n].extend(engines[n].plan(roles, purpose) for roles, purpose in keys)
        except Exception as exc:  # noqa: BLE001 - collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=compile_all, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(plans[0]) == len(keys)
    assert plans[0] == plans[1]
