#!/usr/bin/python3
"""include-cycles.py DIR...: print every cycle in the #include graph of the C files under DIR.

A module is a .c/.h pair named by its path without the suffix (mockd/http); it includes another when
either of its files has `#include "other.h"`. Exits 1 when there is a cycle, 0 otherwise. Used to keep
mockd's core free of the APIs it serves (the core must not know them).
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)


def graph(roots):
    g = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                mod = os.path.splitext(os.path.normpath(path))[0]
                with open(path, encoding="utf-8", errors="replace") as fh:
                    deps = set(INCLUDE.findall(fh.read()))
                g.setdefault(mod, set()).update(d for d in deps if d != mod)
    return {m: {d for d in deps if d in g} for m, deps in g.items()}


def cycles(g):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
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
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main(roots):
    found = cycles(graph(roots))
    for comp in found:
        print("include cycle: " + " <-> ".join(comp))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["mockd"]))
