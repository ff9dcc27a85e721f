#!/bin/bash
# The repository explains itself, and its map stays true as it grows: the
# README's table of contents lists every section and every #link in it
# lands on a heading; every relative link in the READMEs names a file that
# exists; each folder README names every module of its folder (lib/, fcgi/,
# cli/) and tests/README.md every test script and unit-test file; no file
# cites a document kept outside the repository.
. "$(dirname "$0")/../lib.sh"
cd "$BF_ROOT" || fail "no checkout at $BF_ROOT"

python3 - >"$T/report" 2>&1 <<'PY'
import glob, os, re, sys

problems = []

def headings(path):
    """(level, text) of the Markdown headings outside code blocks."""
    out, fence = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            m = re.match(r"^(#{1,6}) (.*?)\s*$", line)
            if m:
                out.append((len(m.group(1)), m.group(2)))
    return out

def slug(text):
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")

def links(path):
    """The targets of [text](target) links outside code blocks."""
    out, fence = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            out += re.findall(r"\]\(([^)\s]+)\)", line)
    return out

# README: contents and anchors.
heads = headings("README.md")
anchors = {slug(t) for _, t in heads}
text = open("README.md", encoding="utf-8").read()
m = re.search(r"^## Contents\n\n((?:\s*- \[.*\n)+)", text, re.M)
if not m:
    problems.append("README.md: no '## Contents' list after the first screen")
    toc = set()
else:
    toc = set(re.findall(r"\]\(#([^)]+)\)", m.group(1)))
for level, t in heads:
    if level == 2 and t != "Contents" and slug(t) not in toc:
        problems.append(f"README.md: section '## {t}' is not in the Contents (#{slug(t)})")
for target in links("README.md"):
    if target.startswith("#") and target[1:] not in anchors:
        problems.append(f"README.md: link {target} lands on no heading")

# Relative links in every README point at files that exist.
for readme in ["README.md"] + sorted(glob.glob("*/README.md")) + sorted(glob.glob("*/*/README.md")):
    base = os.path.dirname(readme)
    for target in links(readme):
        if re.match(r"^(#|[a-z]+:)", target):
            continue
        path = os.path.normpath(os.path.join(base, target.split("#")[0]))
        if not os.path.exists(path):
            problems.append(f"{readme}: link to {target}, which does not exist ({path})")

# Each folder README names each of its modules; tests/README.md each test.
def names(readme, files, strip):
    if not os.path.exists(readme):
        problems.append(f"{readme} does not exist")
        return
    body = open(readme, encoding="utf-8").read()
    for f in files:
        name = strip(os.path.basename(f))
        if not re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", body):
            problems.append(f"{readme} does not name {f}")

module = lambda b: b.rsplit(".", 1)[0]
for folder in ("lib", "fcgi", "cli"):
    names(f"{folder}/README.md", sorted(glob.glob(f"{folder}/*.c")), module)
names("tests/README.md",
      sorted(set(glob.glob("tests/integration/*.sh") + glob.glob("tests/faults/*.sh")
                 + glob.glob("tests/unit/test_*.c")) - {"tests/faults/lib.sh"}),
      lambda b: b)

# The repository explains itself: nothing cites a document kept outside it.
try:   # the files of the checkout (git's list when there is one)
    import subprocess
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
except (OSError, subprocess.CalledProcessError):
    tracked = glob.glob("**/*", recursive=True)
for path in sorted(p for p in tracked if p):
    if (not os.path.isfile(path) or path.startswith("build") or "node_modules/" in path
            or path.endswith((".png", ".ico")) or path == "tests/integration/docs.sh"):
        continue
    try:
        body = open(path, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue
    for n, line in enumerate(body.split("\n"), 1):
        if re.search(r"DESIGN(\.md| ?§)|\.\./shared/", line):
            problems.append(f"{path}:{n}: cites a document outside the repository: {line.strip()[:100]}")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
rc=$?
[ "$rc" -eq 0 ] || fail "the documentation is out of step with the tree:
$(cat "$T/report")"
ok "README contents and anchors, README links, and folder READMEs naming every module and test"
