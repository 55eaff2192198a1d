#!/usr/bin/env python3
"""Lists functions in src/ longer than a limit (default 120 lines), longest first.

A function starts at a line whose code begins with `fn` (after `pub`, `pub(crate)`, `const`,
`async` or `unsafe`) and ends at the closing brace at the same indentation. Usage:
scripts/long-functions.py [LIMIT]. Used to keep functions a reader can hold in their head
(docs/architecture.md).
"""
import pathlib
import re
import sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 120
start = re.compile(r"^(\s*)(pub(\([a-z]+\))? )?((const|async|unsafe) )*fn (\w+)")
found = []
root = pathlib.Path(__file__).resolve().parent.parent
for path in sorted((root / "src").rglob("*.rs")):
    lines = path.read_text().split("\n")
    for i, line in enumerate(lines):
        m = start.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i, len(lines)):
            if lines[j] == indent + "}":
                n = j - i + 1
                if n > limit:
                    found.append((n, f"{path.relative_to(root)}:{i + 1}", m.group(6)))
                break
for n, where, name in sorted(found, reverse=True):
    print(f"{n:5}  {where}  {name}")
sys.exit(1 if found else 0)
