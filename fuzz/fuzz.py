"""Coverage-guided fuzzing of gradcore with atheris (optional: `pip install atheris`).

Two targets: `parse` (only ParseError may come out) and `pipeline` (parse -> diff -> compile ->
gradient: only gradcore's errors). Run from the repository root, e.g.

    python fuzz/fuzz.py parse fuzz/corpus -max_total_time=600
    python fuzz/fuzz.py pipeline fuzz/corpus -max_total_time=600
"""

import sys

import atheris

with atheris.instrument_imports():
    from _targets import bytes_to_text, parse_only, pipeline

TARGETS = {"parse": parse_only, "pipeline": pipeline}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: python fuzz/fuzz.py {{{'|'.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, lambda data: target(bytes_to_text(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
