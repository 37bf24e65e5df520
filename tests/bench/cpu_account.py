#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CPU time per request by thread, user and kernel apart (the part of the cost account that
callgrind, which counts user-space instructions only, cannot see: system calls, wake-ups, the
loopback TCP stack). Reads /proc/<pid>/task/*/stat; threads are grouped by name (igw names its
own: igw:writer, igw:complete, igw:guard, igw:deliver, igw:admin; nng's are nng:*).

    cpu_account.py snap PID > before.json
    cpu_account.py diff NAME REQUESTS before.json after.json
Python 3 standard library."""
import collections
import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def snap(pid):
    out = collections.defaultdict(lambda: [0, 0])
    base = "/proc/%d/task" % pid
    for tid in os.listdir(base):
        try:
            with open(os.path.join(base, tid, "stat")) as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[name][0] += int(fields[11])  # utime (field 14 of stat)
        out[name][1] += int(fields[12])  # stime (field 15)
    return out


def diff(name, n, before, after):
    rows = []
    for t in sorted(set(before) | set(after)):
        u = after.get(t, [0, 0])[0] - before.get(t, [0, 0])[0]
        s = after.get(t, [0, 0])[1] - before.get(t, [0, 0])[1]
        if u or s:
            rows.append((t, u, s))
    tot_u = sum(r[1] for r in rows)
    tot_s = sum(r[2] for r in rows)
    us = 1e6 / TICK / n
    print("# %s: %d requests, CPU per request %.1f us (user %.1f, kernel %.1f)"
          % (name, n, (tot_u + tot_s) * us, tot_u * us, tot_s * us))
    for t, u, s in sorted(rows, key=lambda r: -(r[1] + r[2])):
        print("  %-20s %7.1f us/req  (user %5.1f, kernel %5.1f)" % (t, (u + s) * us, u * us, s * us))
    print("cpu %s %.2f" % (name, (tot_u + tot_s) * us))


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        json.dump(snap(int(sys.argv[2])), sys.stdout)
    else:
        diff(sys.argv[2], int(sys.argv[3]), json.load(open(sys.argv[4])),
             json.load(open(sys.argv[5])))
