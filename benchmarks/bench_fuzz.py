"""Bad input at scale: >= 10,000 generated requests against every Queue method (issue 7).

The same generator as ``tests/hardening/test_bad_input.py`` (``tests/hardening/fuzzing.py``):
valid requests spoiled by bad URL parameters, path tricks in artifact names, unknown query keys,
wrong verbs, malformed or mistyped JSON, huge and unicode strings, missing, garbled, forged,
stale and replayed Hawk headers. Every answer must be below 500, every refusal a Taskcluster
error envelope, and the server must still serve afterwards. Prints the number of cases, the
answers by status class and the cases per second.

``BENCH_FUZZ_CASES`` sets the number of cases (default 10,000).
Run: ``python -m benchmarks.bench_fuzz``.
"""

from __future__ import annotations

import collections
import os
import time

from hypothesis import HealthCheck, given, settings

from tutorial_kit.mock import start

CASES = int(os.environ.get("BENCH_FUZZ_CASES", "10000"))


def main() -> None:
    from tests.hardening.fuzzing import cases, check_case, setup_world
    from tests.hardening.support import Wire, assert_still_serves

    outcomes: collections.Counter[str] = collections.Counter()
    with start(workers=False, claim_wait=0.2) as mock:
        wire = Wire.for_root(mock.root_url)
        world = setup_world(wire, mock.credentials)
        secrets = (mock.credentials["accessToken"],)

        @settings(max_examples=CASES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=cases())
        def fuzz(case) -> None:
            answer = check_case(wire, world, case, secrets)
            outcomes[f"{answer.status // 100}xx"] += 1
            outcomes[str(answer.status)] += 1

        started = time.perf_counter()
        fuzz()
        elapsed = time.perf_counter() - started
        assert_still_serves(wire)
    total = sum(v for k, v in outcomes.items() if k.endswith("xx"))
    classes = {k: v for k, v in sorted(outcomes.items()) if k.endswith("xx")}
    statuses = {k: v for k, v in sorted(outcomes.items()) if not k.endswith("xx")}
    print(f"{total} generated requests in {elapsed:.1f} s ({total / elapsed:.0f}/s): "
          f"{classes}; zero 5xx, zero hangs, the server still serves")
    print(f"by status: {statuses}")
    if total < 10_000 and CASES >= 10_000:
        print(f"NOTE: hypothesis ran only {total} cases (asked for {CASES})")


if __name__ == "__main__":
    main()
