#!/usr/bin/python3
"""Check a chatconform HTML report: valid HTML (html5lib, strict) and no external resource.

Usage: check_html.py FILE.html
Exit 0 when both hold, 1 (with the reason) when not, 77 when html5lib is not installed
(Debian: python3-html5lib), so the caller can skip.
"""
import re
import sys

try:
    import html5lib
except ImportError:
    print("html5lib is not installed (apt-get install python3-html5lib)")
    sys.exit(77)

REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
CSS_URL = re.compile(r"url\s*\(|@import", re.I)


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        doc = parser.parse(data)
    except Exception as e:  # html5lib raises ParseError on the first error in strict mode
        where = parser.errors[0][0] if parser.errors else "?"
        print(f"{path}: not valid HTML at {where}: {e}")
        return 1
    problems = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in ("link", "iframe", "object", "embed", "base"):
            problems.append(f"<{el.tag}> element")
        for name in ("src", "srcset", "action", "data", "poster", "background"):
            if el.get(name) is not None:
                problems.append(f"<{el.tag} {name}={el.get(name)!r}>")
        href = el.get("href")
        if href is not None and (REMOTE.search(href) or not href.startswith("#")):
            problems.append(f"<{el.tag} href={href!r}> leaves the report")
        style = el.get("style") or ""
        if el.tag == "style":
            style += el.text or ""
        if CSS_URL.search(style):
            problems.append(f"<{el.tag}> style loads a resource")
    if problems:
        print(f"{path}: external resources: " + "; ".join(problems[:10]))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip())
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
