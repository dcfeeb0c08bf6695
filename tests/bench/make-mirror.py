#!/usr/bin/env python3
"""Write a static PEP 503 mirror laid out as bandersnatch does (HTML only) for tests/bench/run.sh.

usage: make-mirror.py OUT_DIR NAMES_TXT_GZ DISTS_DIR
       make-mirror.py --gzip FILE...      write FILE.gz beside each FILE (as below)

  OUT_DIR/simple/index.html             root: every name in NAMES_TXT_GZ
  OUT_DIR/simple/small/index.html       real wheels from DISTS_DIR (files under packages/)
  OUT_DIR/simple/bigproject/index.html  3,000 releases (only the first file exists)
  OUT_DIR/simple/big/index.html         one 20 MB random file, packages/big-1.0.0-py3-none-any.whl
  OUT_DIR/simple/pip/index.html         a one-file page: the proxy's upstream health check asks for /simple/pip/
  OUT_DIR/simple/vetted/index.html      40 releases, one wheel each; only the newest wheel exists (a real,
                                        minimal wheel: the tier 3 scenario vets it and the proxy stores it)
Links are relative, ../../packages/<filename>#sha256=<hex>, as bandersnatch writes them.

The pages the gzip scenarios fetch (the root, small, bigproject) get a pre-compressed twin, index.html.gz, which
nginx's gzip_static serves to a client sending Accept-Encoding: gzip: gzip level 6 with mtime 0, the zlib level the
proxy compresses its pages at.
"""
import base64
import gzip
import hashlib
import html
import os
import re
import shutil
import sys
import zipfile

BIG_SIZE = 20 * 1024 * 1024
BIGPROJECT_RELEASES = 3000
SMALL_PREFIXES = ("six-", "zipp-")
VETTED_RELEASES = 40
GZIP_LEVEL = 6


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


def gzip_twin(path):
    """Writes path + ".gz": gzip level 6, mtime 0 (no timestamp in the header, so the twin is reproducible)."""
    with open(path, "rb") as f:
        data = f.read()
    with open(path + ".gz", "wb") as f:
        f.write(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def minimal_wheel(path, name, version):
    """A real wheel with nothing but its metadata, so that whatever reads a vetted wheel finds a valid one."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: make-mirror.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{n},sha256={urlsafe_digest(t.encode())},{len(t.encode())}" for n, t in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for n, t in files.items():
            info = zipfile.ZipInfo(n, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, t)


def urlsafe_digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main():
    if sys.argv[1:2] == ["--gzip"]:
        for path in sys.argv[2:]:
            gzip_twin(path)
        return

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

    # vetted: the tier 3 scenario's project. The newest release is vetted through the proxy's API, which pins its file
    # (and stores it), so that file must exist and match its sha256; the older ones are never fetched.
    newest = f"1.0.{VETTED_RELEASES - 1}"
    newest_file = f"vetted-{newest}-py3-none-any.whl"
    minimal_wheel(os.path.join(packages, newest_file), "vetted", newest)
    vetted_files = []
    for n in range(VETTED_RELEASES):
        filename = f"vetted-1.0.{n}-py3-none-any.whl"
        digest = sha256_of(os.path.join(packages, filename)) if filename == newest_file \
            else hashlib.sha256(filename.encode()).hexdigest()
        vetted_files.append((filename, digest))
    write(os.path.join(out, "simple", "vetted", "index.html"), project_page("vetted", vetted_files))

    for page in ("index.html", "small/index.html", "bigproject/index.html"):
        gzip_twin(os.path.join(out, "simple", page))

    print(f"mirror: {count} names in the root, {len(small)} small files, "
          f"{BIGPROJECT_RELEASES} bigproject releases, {BIG_SIZE} byte big file, "
          f"{VETTED_RELEASES} vetted releases (newest {newest}), gzip twins of the root, small and bigproject")


if __name__ == "__main__":
    main()
