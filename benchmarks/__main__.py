"""Run every benchmark module (``bench_*.py``) in turn; each prints its own figures."""

from __future__ import annotations

import importlib
import pathlib
import sys
import time


def main(argv: list[str]) -> int:
    wanted = set(argv)
    names = sorted(p.stem for p in pathlib.Path(__file__).parent.glob("bench_*.py"))
    failures = 0
    for name in names:
        if wanted and name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as error:  # one broken benchmark must not hide the others' figures
            failures += 1
            print(f"{name} failed: {type(error).__name__}: {error}", flush=True)
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
