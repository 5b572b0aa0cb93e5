#!/usr/bin/env python3
"""Checks the facade's rendered docs (target/doc/snakepit_bridge, from `cargo doc`) for what
rustdoc does not warn about: the docs of items re-exported from the inner crates are resolved
in those crates, so a broken or misleading link there passes `-D warnings` in the facade.

In the main content of every page (the item's own docs and its inherent methods'; trait
implementations, auto-trait and blanket implementations are the traits' docs, not ours), it
reports:
- text `crate::`, `self::` or `super::`: a path only the inner crate can write;
- a link whose target is such a path (`href="crate::..."`): an intra-doc link that did not
  resolve, rendered as a dead link;
- `[`...`]` left as text: an intra-doc link that did not resolve;
- a relative link to a file that is not there;
- an inner crate's path (`snakepit_bridge_runtime::...`) in a code example: a facade user
  writes `snakepit_bridge::...`.

Usage: check_facade_docs.py [DOC_DIR]  (default: target/doc/snakepit_bridge). Exit 1 on any
finding.
"""
import html
import os
import re
import sys
from pathlib import Path

# Pages that are other crates' docs re-exported whole: not ours to fix.
FOREIGN = ("worker/tokio_stream/", "worker/trait.Stream.html", "worker/trait.StreamExt.html")
SKIPPED = ("src/", "__private/")
# Findings known and accepted for a while, as (page, start of the finding): none today. The
# check says when one no longer occurs, so that it can go.
PENDING = set()
# Where the docs of trait implementations begin: what follows is the traits' docs.
TRAIT_SECTIONS = re.compile(
    r'<h2 id="(?:trait-implementations|synthetic-implementations|blanket-implementations)"'
)
MAIN = re.compile(r'<section id="main-content"')
CODE_EXAMPLE = re.compile(r'<pre class="rust[^"]*"><code>(.*?)</code></pre>', re.S)
INNER_PATH = re.compile(r"\bsnakepit_bridge_(?:runtime|worker|testkit|macros|spec)::")
RELATIVE_PATH = re.compile(r"(?:crate|self|super)::")
UNRESOLVED_HREF = re.compile(r'href="(?:crate|self|super)::[^"]*"')
UNRESOLVED_BRACKETS = re.compile(r"\[<code>[^<]*</code>\]")
HREF = re.compile(r'href="([^"#:?]+\.html)(?:#[^"]*)?"')


def text(fragment):
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def findings(root, page):
    rel = page.relative_to(root).as_posix()
    source = page.read_text(encoding="utf-8")
    own = TRAIT_SECTIONS.split(MAIN.split(source, maxsplit=1)[-1], maxsplit=1)[0]
    for block in [own]:
        examples = CODE_EXAMPLE.findall(block)
        prose = CODE_EXAMPLE.sub("", block)
        for example in examples:
            for line in text(example).splitlines():
                if INNER_PATH.search(line):
                    yield f"{rel}: inner crate path in an example: {line.strip()}"
        for match in UNRESOLVED_HREF.finditer(prose):
            yield f"{rel}: unresolved link {match.group(0)}"
        for match in UNRESOLVED_BRACKETS.finditer(prose):
            yield f"{rel}: unresolved link {text(match.group(0))}"
        prose_text = text(UNRESOLVED_HREF.sub("", prose))
        for match in RELATIVE_PATH.finditer(prose_text):
            around = prose_text[max(0, match.start() - 40) : match.end() + 40]
            yield f"{rel}: `{match.group(0)}` in the text: ...{' '.join(around.split())}..."
        for target in HREF.findall(prose):
            if not (page.parent / target).resolve().is_file():
                yield f"{rel}: dead link to {target}"


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/doc/snakepit_bridge")
    if not (root / "index.html").is_file():
        print(f"{root}/index.html is missing: run `cargo doc` first", file=sys.stderr)
        return 2
    found = []
    seen_pending = set()
    for page in sorted(root.rglob("*.html")):
        rel = page.relative_to(root).as_posix()
        if rel.startswith(FOREIGN + SKIPPED):
            continue
        for finding in dict.fromkeys(findings(root, page)):
            pending = [
                known
                for known in PENDING
                if rel == known[0] and finding.startswith(f"{rel}: {known[1]}")
            ]
            if pending:
                seen_pending.update(pending)
            else:
                found.append(finding)
    for page, start in sorted(PENDING - seen_pending):
        print(f"note: no longer found, remove it from PENDING: {page}: {start}")
    for line in found:
        print(line)
    print(f"{len(found)} problem(s) in the docs under {root}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
