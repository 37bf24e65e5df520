#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compares two JSONL files line by line as parsed JSON (member order ignored).

Usage: compare_jsonl.py WANT.jsonl GOT.jsonl
Prints "N records, M differ" and the first differences; exit status 1 when any differ or the
line counts disagree.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    n = 0
    with open(sys.argv[1], encoding="utf-8") as want, open(sys.argv[2], encoding="utf-8") as got:
        for n, (w, g) in enumerate(zip(want, got), 1):
            if json.loads(w) != json.loads(g):
                bad += 1
                if bad <= 3:
                    print(f"line {n}:\n  want {w.strip()}\n  got  {g.strip()}")
        rest_w = sum(1 for _ in want)
        rest_g = sum(1 for _ in got)
    if rest_w or rest_g:
        print(f"line counts differ: {rest_w} more in {sys.argv[1]}, {rest_g} more in {sys.argv[2]}")
        bad += 1
    print(f"{n} records, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
