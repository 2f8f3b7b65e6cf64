"""Times protokit's Protobuf compatibility check on the pairs the `protobuf_compat` bench
wrote, so that the bench can print both sides of one run side by side.

protokit (PyPI, MIT) checks one message type at a time with its own rules (not Confluent's),
on descriptor pools of the `protobuf` runtime. Each pair is checked for every top-level
message both files declare, with the PRODUCER_SAFE profile ("can new consumers safely read
old messages?", Herald's BACKWARD).

Usage: python protobuf_compat_reference.py DIR, where DIR holds `pairs.json` and the
FileDescriptorSet files it names. Prints one JSON object: mean seconds per run of all pairs
and of the transitive history, and the verdicts.
"""

import json
import sys
import time
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool
from protokit.schema import CompatibilityLevel, check_compatibility

LEVEL = CompatibilityLevel.PRODUCER_SAFE


def load(path):
    files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
        pool.FindFileByName(file.name)
    return pool


def mean_seconds(run, budget=1.0):
    for _ in range(2):
        run()
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget:
        run()
        runs += 1
    return (time.perf_counter() - start) / runs


def main():
    root = Path(sys.argv[1])
    spec = json.loads((root / "pairs.json").read_text())
    pairs = [
        (load(root / p["original"]), load(root / p["update"]), p["types"])
        for p in spec["pairs"]
    ]
    history = spec["history"]
    new = load(root / history["new"])
    old = [load(root / name) for name in history["old"]]
    wide = history["type"]

    def run_pairs():
        return [
            all(
                check_compatibility(o, old_type, u, new_type, level=LEVEL).is_compatible
                for old_type, new_type in types
            )
            for o, u, types in pairs
        ]

    def run_history():
        return all(
            check_compatibility(previous, wide, new, wide, level=LEVEL).is_compatible
            for previous in old
        )

    print(
        json.dumps(
            {
                "pairs_seconds": mean_seconds(run_pairs),
                "history_seconds": mean_seconds(run_history),
                "pair_verdicts": run_pairs(),
                "history_compatible": run_history(),
            }
        )
    )


if __name__ == "__main__":
    main()
