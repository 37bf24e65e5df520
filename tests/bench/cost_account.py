#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-request cost account (issue 14 item 1): instructions per accepted request, by thread and
by function, from callgrind's per-thread output of a server that served a fixed number of
requests after a warm-up (instrumentation switched on with callgrind_control after the warm-up,
so start-up and warm-up are not counted).

    cost_account.py NAME REQUESTS FILE...   (FILE: callgrind.out.* of one process, one per thread)

Prints one line per thread (role, instructions per request, share) and the functions with the
most self cost per request over all threads, then a line "total NAME <instructions/request>"
that tests/bench/cost_bench.sh compares between servers. Python 3 standard library."""
import collections
import re
import sys

# A thread's role from the functions it ran (first match wins; names of igw and nng 1.5)
ROLES = [("guard_main", "igw connection guard"),
         ("writer_main", "queue writer"),
         ("callback_main", "queue completion"),
         ("deliver_main", "delivery engine"),
         ("worker_main", "admin worker"),
         ("handle", "nng task threads (HTTP handler)"),
         ("io_cb", "nng task threads (HTTP handler)"),
         ("epoll_wait", "nng poller and timers"),
         ("poll", "nng poller and timers"),
         ("main", "main thread")]
# libnng is stripped on Debian: its own functions show as addresses, so an nng thread is known
# by the igw (or nng_bare) function it calls back, or by the system call it waits in


def parse(path):
    """Self cost (Ir) per function and the file's total."""
    self_cost = collections.Counter()
    fn = None
    total = 0
    names = {}
    in_call = False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                in_call = False
                m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.strip())
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    fn = names.get(m.group(1), m.group(1))
                else:
                    fn = line.strip()[3:]
                continue
            if line.startswith(("cfn=", "cfi=", "cfl=")):
                m = re.match(r"cfn=\((\d+)\) (.*)", line.strip())
                if m:
                    names[m.group(1)] = m.group(2)
                continue
            if line.startswith("calls="):
                in_call = True  # the next cost line is the call's inclusive cost: not self
                continue
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
                continue
            if fn is not None and line[:1].isdigit() or line[:1] in "+-*" and fn is not None:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    if in_call:
                        in_call = False
                    else:
                        self_cost[fn] += int(parts[1])
    return self_cost, total


def role(funcs):
    for key, name in ROLES:
        if any(f == key or f.startswith(key + "'") for f in funcs):
            return name
    return "other"


def main():
    name, n = sys.argv[1], int(sys.argv[2])
    threads = collections.defaultdict(int)
    funcs = collections.Counter()
    by_role = collections.defaultdict(collections.Counter)
    for path in sys.argv[3:]:
        cost, total = parse(path)
        if total == 0:
            total = sum(cost.values())
        if total == 0:
            continue
        threads[role(cost)] += total
        funcs.update(cost)
        by_role[role(cost)].update(cost)
    grand = sum(threads.values())
    print("# %s: %d requests, %.0f instructions per request (user space)" % (name, n, grand / n))
    for r, ir in sorted(threads.items(), key=lambda kv: -kv[1]):
        print("  %-32s %10.0f /req  %5.1f %%" % (r, ir / n, 100.0 * ir / grand))
        if ir / n >= 1000:
            top = ", ".join("%s %.0f" % (f[:40], c / n) for f, c in by_role[r].most_common(6))
            print("      %s" % top)
    print("  top functions (self cost per request):")
    for f, ir in funcs.most_common(15):
        print("    %-48s %9.0f  %5.1f %%" % (f[:48], ir / n, 100.0 * ir / grand))
    print("total %s %.0f" % (name, grand / n))


if __name__ == "__main__":
    main()
