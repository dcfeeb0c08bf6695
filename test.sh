#!/usr/bin/env bash
# The test command: installs what the tests need, starts a private PostgreSQL and an S3 API (moto_server)
# on free loopback ports, runs every test project against SQLite and PostgreSQL, and ends with "N passed, N failed".
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter Category!=EndToEnd]
set -euo pipefail
cd "$(dirname "$0")"
repo=$(pwd)
work=$(mktemp -d /tmp/curated-index-test.XXXXXX)
pg_data="$work/pg"
pg_ctl_bin=""
moto_pid=""

cleanup() {
  if [ -n "$pg_ctl_bin" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_pg "$pg_ctl_bin" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$moto_pid" ]; then
    # moto_server runs in its own process group (setsid): end the group, so no child it started survives.
    kill -- "-$moto_pid" 2>/dev/null || kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: run its tools as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# 1. Client tools for the end-to-end tests (Debian packages; pip versions come with pyenv's Pythons)
#    and Debian's chromium with its chromedriver for the browser test.
missing=()
command -v poetry >/dev/null || missing+=(python3-poetry)
command -v pdm >/dev/null || missing+=(python3-pdm)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)               # the browser test drives these two paths
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -d /usr/lib/python3/dist-packages/flit_core ] || missing+=(flit)  # flit_core builds the attested sdists of ProvenanceInstallTests
[ -x /usr/sbin/nginx ] || missing+=(nginx)              # NginxAccelRedirectTests runs the README's nginx server block
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing packages: ${missing[*]} (install them with apt-get)" >&2
    exit 1
  fi
fi

# 2. A private PostgreSQL cluster on a free port (never the machine's fixed 5432).
pg_bin=/usr/lib/postgresql/15/bin
pg_ctl_bin="$pg_bin/pg_ctl"
mkdir -p "$pg_data"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$work"; chmod 755 "$work"; fi
as_pg "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres >/dev/null
pg_port=$(free_port)
as_pg "$pg_ctl_bin" -D "$pg_data" -l "$work/pg.log" -w -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
export CURATED_INDEX_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
echo "PostgreSQL test cluster on 127.0.0.1:$pg_port"

# 3. An S3 API for the S3 artifact store's tests: moto_server (pyenv's) on a free port; each test makes its own bucket.
command -v moto_server >/dev/null || { echo "moto_server is missing (pip install 'moto[server]')" >&2; exit 1; }
moto_port=$(free_port)
setsid moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$moto_port/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { echo "moto_server did not start:" >&2; cat "$work/moto.log" >&2; exit 1; }
  sleep 0.2
done
export CURATED_INDEX_TEST_S3="http://127.0.0.1:$moto_port"
echo "S3 API (moto_server) on 127.0.0.1:$moto_port"

# 4. Every test project; results are counted from the TRX files, not from console text.
results="$work/results"
set +e
dotnet test "$repo/CuratedIndex.sln" --logger "trx" --results-directory "$results" "$@"
status=$?
set -e

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the run itself broke (build error, crashed host): never report it as green
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
