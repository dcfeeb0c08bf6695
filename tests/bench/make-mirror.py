#!/usr/bin/env python3
"""Write a static PEP 503 mirror laid out as bandersnatch does (HTML only) for tests/bench/run.sh.

usage: make-mirror.py OUT_DIR NAMES_TXT_GZ DISTS_DIR

  OUT_DIR/simple/index.html             root: every name in NAMES_TXT_GZ
  OUT_DIR/simple/small/index.html       real wheels from DISTS_DIR (files under packages/)
  OUT_DIR/simple/bigproject/index.html  3,000 releases (only the first file exists)
  OUT_DIR/simple/big/index.html         one 20 MB random file, packages/big-1.0.0-py3-none-any.whl
  OUT_DIR/simple/pip/index.html         a one-file page: the proxy's upstream health check asks for /simple/pip/
Links are relative, ../../packages/<filename>#sha256=<hex>, as bandersnatch writes them.
"""
import gzip
import hashlib
import html
import os
import re
import shutil
import sys

BIG_SIZE = 20 * 1024 * 1024
BIGPROJECT_RELEASES = 3000
SMALL_PREFIXES = ("six-", "zipp-")


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def project_page(name, files):
    """files: list of (filename, sha256 hex)."""
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        '    <meta name="pypi:repository-version" content="1.0">',
        f"    <title>Links for {html.escape(name)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>Links for {html.escape(name)}</h1>",
    ]
    for filename, digest in files:
        lines.append(f'    <a href="../../packages/{html.escape(filename)}#sha256={digest}">{html.escape(filename)}</a><br/>')
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    out, names_gz, dists = sys.argv[1:4]
    packages = os.path.join(out, "packages")
    os.makedirs(packages, exist_ok=True)

    # Root: every real project name, streamed (886k lines, ~40 MB of HTML).
    count = 0
    os.makedirs(os.path.join(out, "simple"), exist_ok=True)
    with gzip.open(names_gz, "rt", encoding="utf-8") as src, \
            open(os.path.join(out, "simple", "index.html"), "w", encoding="utf-8") as dst:
        dst.write("<!DOCTYPE html>\n<html>\n  <head>\n"
                  '    <meta name="pypi:repository-version" content="1.0">\n'
                  "    <title>Simple Index</title>\n  </head>\n  <body>\n")
        for line in src:
            name = line.strip()
            if not name:
                continue
            dst.write(f'    <a href="/simple/{normalize(name)}/">{html.escape(name)}</a>\n')
            count += 1
        dst.write("  </body>\n</html>\n")

    # small: a few real wheels.
    small = []
    for filename in sorted(os.listdir(dists)):
        if filename.startswith(SMALL_PREFIXES):
            shutil.copyfile(os.path.join(dists, filename), os.path.join(packages, filename))
            small.append((filename, sha256_of(os.path.join(packages, filename))))
    write(os.path.join(out, "simple", "small", "index.html"), project_page("small", small))

    # bigproject: 3,000 releases; only the first file exists.
    first = "bigproject-1.0.0-py3-none-any.whl"
    with open(os.path.join(packages, first), "wb") as f:
        f.write(b"bigproject")
    big_files = [(first, sha256_of(os.path.join(packages, first)))]
    for n in range(1, BIGPROJECT_RELEASES):
        filename = f"bigproject-1.0.{n}-py3-none-any.whl"
        big_files.append((filename, hashlib.sha256(filename.encode()).hexdigest()))
    write(os.path.join(out, "simple", "bigproject", "index.html"), project_page("bigproject", big_files))

    # big: a 20 MB file of random bytes.
    big = "big-1.0.0-py3-none-any.whl"
    with open(os.path.join(packages, big), "wb") as f:
        f.write(os.urandom(BIG_SIZE))
    write(os.path.join(out, "simple", "big", "index.html"),
          project_page("big", [(big, sha256_of(os.path.join(packages, big)))]))

    # pip: config/reverseproxy.json's active health check probes /simple/pip/.
    pip = "pip-24.0-py3-none-any.whl"
    with open(os.path.join(packages, pip), "wb") as f:
        f.write(b"pip")
    write(os.path.join(out, "simple", "pip", "index.html"),
          project_page("pip", [(pip, sha256_of(os.path.join(packages, pip)))]))

    print(f"mirror: {count} names in the root, {len(small)} small files, "
          f"{BIGPROJECT_RELEASES} bigproject releases, {BIG_SIZE} byte big file")


if __name__ == "__main__":
    main()
