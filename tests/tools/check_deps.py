#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the dependency rule of docs/ARCHITECTURE.md on the #include graph.

Every C file belongs to a unit: its folder (gateway/delivery, translators/map, queue/lmdb,
common, cli, ...); every public header in include/igw/ is owned by the unit that implements it
(OWNERS below: a new public header needs a line there). An #include "x.h" from a file of unit A
of a header owned by unit B is an edge A -> B. The check fails when
  - an edge goes up the layers: cli > gateway > (translators | queue | gen) > common, or
    sideways between translators, queue and gen (igw gen's generator);
  - units depend on each other in a circle (any strongly connected component of two or more);
  - two .c files each include the other's header (a file-level circle, named as a pair);
  - a public header has no owner.
Usage: tests/tools/check_deps.py [SOURCE_DIR]   (prints the unit graph with -v)
"""
import os
import re
import sys

OWNERS = {
    "arena.h": "common", "buf.h": "common", "common.h": "common", "err.h": "common",
    "log.h": "common", "utf8.h": "common",
    # config.h is the data model every service reads (types only): it sits below the gateway's
    # folders; config_load.h is the loader, which knows every plugin's options.
    "config.h": "gateway/model", "config_load.h": "gateway/config", "gateway.h": "gateway",
    "queue.h": "queue", "queue_backend.h": "queue", "queue_lmdb.h": "queue/lmdb",
    "queue_jetstream.h": "queue/jetstream",
    # doc.h is an umbrella over the tree, the codec seam and the built-in codecs
    "doc.h": "translators", "node.h": "translators/doc", "codec.h": "translators/codec",
    "json.h": "translators/json", "xml.h": "translators/xml", "csv.h": "translators/csv",
    "map.h": "translators/map", "maptable.h": "translators/map",
    "fhir.h": "translators/fhir", "search.h": "translators/search",
    "gen.h": "gen", "dci.h": "translators/dci", "decimal.h": "common",
}
LAYER = {"cli": 4, "gateway": 3, "translators": 2, "queue": 2, "gen": 2, "common": 1}
SRC_DIRS = ("cli", "gateway", "translators", "queue", "gen", "common")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def unit_of(rel):
    """Unit of a repository-relative path: its folder, or the owner of a public header."""
    if rel.startswith("include/igw/"):
        return OWNERS.get(os.path.basename(rel))
    return os.path.dirname(rel)


def resolve(root, rel, inc):
    """Repository-relative path of an include, or None for a system/third-party header."""
    here = os.path.dirname(rel)
    top = rel.split("/")[0]
    cands = [os.path.join(here, inc), os.path.join("include", inc), os.path.join(top, inc)]
    for c in cands:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(root, c)):
            return c
    return None


def layer(unit):
    return LAYER[unit.split("/")[0]]


def sccs(graph):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), "../.."))
    verbose = "-v" in sys.argv
    errors = []
    files = []
    for d in SRC_DIRS + ("include/igw",):
        for dp, _, fns in os.walk(os.path.join(root, d)):
            files += [os.path.relpath(os.path.join(dp, f), root) for f in fns
                      if f.endswith((".c", ".h"))]
    graph, why, fdeps = {}, {}, {}
    for rel in sorted(files):
        src = unit_of(rel)
        if src is None:
            errors.append("%s: public header without an owner (add it to OWNERS in %s)"
                          % (rel, os.path.relpath(__file__, root)))
            continue
        text = open(os.path.join(root, rel), encoding="utf-8", errors="replace").read()
        for inc in INCLUDE_RE.findall(text):
            tgt = resolve(root, rel, inc)
            if tgt is None:
                continue
            if rel.endswith(".c"):
                fdeps.setdefault(os.path.splitext(rel)[0], set()).add(os.path.splitext(tgt)[0])
            dst = unit_of(tgt)
            if dst is None or dst == src:
                continue
            graph.setdefault(src, set()).add(dst)
            why.setdefault((src, dst), "%s includes %s" % (rel, inc))
            a, b = layer(src), layer(dst)
            if b > a or (a == b and src.split("/")[0] != dst.split("/")[0]):
                errors.append("%s -> %s breaks the layer rule (%s)" % (src, dst, why[(src, dst)]))
    for comp in sccs(graph):
        if len(comp) > 1:
            comp.sort()
            edges = ["%s -> %s (%s)" % (s, d, why[(s, d)]) for s in comp for d in comp
                     if d in graph.get(s, ())]
            errors.append("units in a circle: %s\n    %s" % (", ".join(comp), "\n    ".join(edges)))
    for a, deps in sorted(fdeps.items()):
        for b in sorted(deps):
            if a < b and a in fdeps.get(b, ()) and a != b:
                errors.append("files include each other: %s <-> %s" % (a, b))
    if verbose:
        for s in sorted(graph):
            print("%-24s -> %s" % (s, ", ".join(sorted(graph[s]))))
    for e in errors:
        print("check_deps: " + e)
    if not errors:
        print("check_deps: ok (%d files, %d units, no circle, layers respected)"
              % (len(files), len(set(graph) | {d for v in graph.values() for d in v})))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
