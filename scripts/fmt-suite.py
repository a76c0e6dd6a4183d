#!/usr/bin/python3
"""fmt-suite.py FILE...: lay out suite files the way the suites are written.

A value is written on one line when it fits in WIDTH columns at its place; otherwise an object or
array opens one member per line. Strings keep non-ASCII characters as they are. The file is
rewritten in place only when its content parses and the layout changes nothing but whitespace.
"""
import json
import sys

WIDTH = 110


def compact(v):
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def lay(v, indent, prefix_len):
    one = compact(v)
    if not isinstance(v, (dict, list)) or not v or indent + prefix_len + len(one) <= WIDTH:
        return one
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        items = []
        for k, x in v.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            items.append(pad + key + lay(x, indent + 2, len(key)))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + lay(x, indent + 2, 0) for x in v]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        doc = json.loads(text)
        out = lay(doc, 0, 0) + "\n"
        if json.loads(out) != doc:
            sys.exit(f"fmt-suite: {path}: the layout would change the content; left as it is")
        if out != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
