"""`make bench`: every side-by-side benchmark, each writing benchmarks/results/<name>.md."""

from __future__ import annotations

import sys

from benchmarks import (
    bench_api,
    bench_hashing,
    bench_index,
    bench_intake,
    bench_robustness,
    bench_scan,
    bench_text_extraction,
    bench_text_linking,
)


def main() -> int:
    status = 0
    for bench in (
        bench_robustness,
        bench_hashing,
        bench_index,
        bench_api,
        bench_intake,
        bench_scan,
        bench_text_extraction,
        bench_text_linking,
    ):
        status |= bench.main([])
    return status


if __name__ == "__main__":
    sys.exit(main())
