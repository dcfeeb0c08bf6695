#!/usr/bin/env bash
# Load run of the scale-out profile (README "Load"): two CuratedIndex nodes (the Release executable from dotnet publish,
# started directly) sharing a private PostgreSQL and one artifact store, in front of a generated PEP 503 mirror served by
# nginx. After warming every page and file through both nodes, wrk runs LOAD_CONNECTIONS concurrent connections
# (default 1000, half per node) for LOAD_DURATION seconds (default 60) over the mirror's pages and files, while
#   - a sampler downloads random files from both nodes and checks each body's sha256 against the mirror's, and
#   - each node's RSS is read every LOAD_RSS_INTERVAL seconds (default 5).
# It prints requests/s, latency percentiles, errors (socket errors and non-2xx/3xx answers), sha256 mismatches and RSS
# per node, and exits 1 when there was an error or a mismatch (0 otherwise; the figures are a report, not a threshold).
#
#   STORAGE=S3 (default): moto_server on a free loopback port, one bucket (Storage:S3:*).
#   STORAGE=FileSystem:   both nodes share one Storage:Path directory.
#   LOAD_APP=DIR:         use an existing `dotnet publish` output instead of publishing again.
#   LOAD_KEEP=1:          keep the temporary directory (logs, wrk output, samples).
# Everything it starts (PostgreSQL, moto_server, nginx, the nodes, wrk, the samplers) is stopped on exit, also on Ctrl-C.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STORAGE="${STORAGE:-S3}"
DURATION="${LOAD_DURATION:-60}"
CONNECTIONS="${LOAD_CONNECTIONS:-1000}"
RSS_INTERVAL="${LOAD_RSS_INTERVAL:-5}"
PROJECTS="${LOAD_PROJECTS:-40}"
FILES_PER_PROJECT=3
BUCKET=curated-index-load

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'load: %s\n' "$*" >&2; exit 2; }

case "$STORAGE" in S3 | FileSystem) ;; *) die "STORAGE must be S3 or FileSystem, not '$STORAGE'" ;; esac
((CONNECTIONS >= 2)) || die "LOAD_CONNECTIONS must be at least 2"

# 1. Tools: wrk, nginx, PostgreSQL's server (Debian packages, installed when root, as tests/bench/run.sh and test.sh do).
PG_BIN=/usr/lib/postgresql/15/bin
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -x /usr/sbin/nginx ]] || missing+=(nginx)
[[ -x "$PG_BIN/initdb" ]] || missing+=(postgresql)
if ((${#missing[@]} > 0)); then
  [[ "$(id -u)" == 0 ]] || die "missing packages: ${missing[*]} (install them with apt-get)"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ "$STORAGE" == S3 ]]; then
  command -v moto_server >/dev/null || die "STORAGE=S3 needs moto_server (pip install 'moto[server]'), or run with STORAGE=FileSystem"
fi

# 1000 client sockets plus as many server sockets, files and pipes: the default 1024 descriptors are not enough.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= CONNECTIONS + 1024)) || die "ulimit -n is $(ulimit -n): $CONNECTIONS connections need at least $((CONNECTIONS + 1024))"

TMP="$(mktemp -d /tmp/curated-load.XXXXXX)"
chmod 755 "$TMP" # PostgreSQL runs as postgres and nginx's workers as www-data when this runs as root
PIDS=()      # every background process, stopped in reverse order
PG_STARTED=0

as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  local rc=$? i pid
  trap - EXIT INT TERM
  touch "$TMP/stop"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid="${PIDS[i]}"
    pkill -TERM -P "$pid" 2>/dev/null || true # a sampler's curl
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((PG_STARTED)); then as_pg "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [[ "${LOAD_KEEP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # url seconds pid
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "load: process $3 exited while waiting for $1" >&2; return 1; }
    sleep 0.1
  done
  echo "load: $1 did not answer within $2 s" >&2
  return 1
}

rss_mb() { awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# 2. The executable.
if [[ -n "${LOAD_APP:-}" ]]; then
  APP="$(cd "$LOAD_APP" && pwd)"
else
  log "publishing CuratedIndex (Release)"
  dotnet publish "$REPO/src/CuratedIndex" -c Release -o "$TMP/app" --nologo -v quiet >"$TMP/publish.log" 2>&1 \
    || { cat "$TMP/publish.log" >&2; exit 2; }
  APP="$TMP/app"
fi
[[ -x "$APP/curated-index" ]] || die "$APP/curated-index is not an executable (LOAD_APP must be a dotnet publish output)"

# 3. The mirror: PROJECTS projects with FILES_PER_PROJECT files of random bytes (4 KB to 256 KB), a root page, the
# /simple/pip/ page config/reverseproxy.json's health check probes; SHA256SUMS for the samplers; paths.txt for wrk.
log "generating the mirror ($PROJECTS projects, $FILES_PER_PROJECT files each)"
python3 - "$TMP/mirror" "$PROJECTS" "$FILES_PER_PROJECT" "$TMP/paths.txt" "$TMP/files.txt" <<'PY'
import hashlib, os, random, sys

out, projects, per_project, paths_txt, files_txt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(14)
os.makedirs(os.path.join(out, "packages"), exist_ok=True)

def page(name, files):
    links = "".join(f'    <a href="../../packages/{f}#sha256={d}">{f}</a><br/>\n' for f, d in files)
    return (f'<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.0">\n'
            f'    <title>Links for {name}</title>\n  </head>\n  <body>\n    <h1>Links for {name}</h1>\n{links}  </body>\n</html>\n')

def write_page(name, files):
    os.makedirs(os.path.join(out, "simple", name), exist_ok=True)
    with open(os.path.join(out, "simple", name, "index.html"), "w") as f:
        f.write(page(name, files))

def write_file(filename, size):
    data = rng.randbytes(size)
    with open(os.path.join(out, "packages", filename), "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()

names, paths, sums = [], [], []
for p in range(projects):
    name = f"load-{p}"
    files = []
    for v in range(per_project):
        filename = f"load_{p}-1.0.{v}-py3-none-any.whl"
        digest = write_file(filename, rng.choice([4, 16, 64, 256]) * 1024)
        files.append((filename, digest))
        sums.append(f"{digest} /dev/files/{name}/{filename}")
        paths.append(f"/dev/files/{name}/{filename}")
    write_page(name, files)
    names.append(name)
    paths.append(f"/dev/simple/{name}/")
write_page("pip", [("pip-24.0-py3-none-any.whl", write_file("pip-24.0-py3-none-any.whl", 3))])
with open(os.path.join(out, "simple", "index.html"), "w") as f:
    f.write("<!DOCTYPE html>\n<html>\n  <body>\n" + "".join(f'    <a href="/simple/{n}/">{n}</a>\n' for n in names + ["pip"]) + "  </body>\n</html>\n")
rng.shuffle(paths)
with open(paths_txt, "w") as f:
    f.write("\n".join(paths) + "\n")
with open(files_txt, "w") as f:
    f.write("\n".join(sums) + "\n")
PY

# 4. nginx serves the mirror (the upstream).
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/mirror;
    index index.html;
  }
}
CONF
log "starting nginx (the upstream) on 127.0.0.1:$NGINX_PORT"
/usr/sbin/nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" &
PIDS+=($!)
UPSTREAM="http://127.0.0.1:$NGINX_PORT"
wait_for "$UPSTREAM/simple/pip/" 10 "${PIDS[-1]}"

# 5. PostgreSQL: a private cluster on a free port (as test.sh), run as postgres when this runs as root.
PG_PORT="$(free_port)"
mkdir -p "$TMP/pg"
if [[ "$(id -u)" == 0 ]]; then chown postgres "$TMP/pg"; fi
as_pg "$PG_BIN/initdb" -D "$TMP/pg" -A trust -U postgres >/dev/null
log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg/server.log" -w \
  -o "-p $PG_PORT -k $TMP/pg -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
PG_STARTED=1
CONNECTION="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"

# 6. The artifact store.
STORE_ARGS=()
if [[ "$STORAGE" == S3 ]]; then
  S3_PORT="$(free_port)"
  log "starting moto_server (S3 API) on 127.0.0.1:$S3_PORT"
  moto_server -H 127.0.0.1 -p "$S3_PORT" >"$TMP/moto.log" 2>&1 &
  PIDS+=($!)
  wait_for "http://127.0.0.1:$S3_PORT/" 30 "${PIDS[-1]}"
  curl -fsS -X PUT -o /dev/null "http://127.0.0.1:$S3_PORT/$BUCKET" || die "moto_server did not create bucket $BUCKET"
  STORE_ARGS=(
    "--Storage:Provider=S3" "--Storage:S3:ServiceUrl=http://127.0.0.1:$S3_PORT" "--Storage:S3:Bucket=$BUCKET"
    "--Storage:S3:AccessKey=load-test" "--Storage:S3:SecretKey=load-test-secret"
  )
else
  STORE_ARGS=("--Storage:Provider=FileSystem" "--Storage:Path=$TMP/artifacts")
fi

# 7. The nodes: migrate once, then two servers on the same database and store (each its own cache directory).
mkdir -p "$TMP/policies"
printf 'environments:\n  dev: { tier: 1 }\n' >"$TMP/policies/environments.yaml"
COMMON=(
  "--contentRoot=$APP" "--Policies:Path=$TMP/policies"
  "--Database:Provider=Postgres" "--ConnectionStrings:CuratedIndex=$CONNECTION" "--Database:MigrateOnStartup=false"
  "--Upstream:Url=$UPSTREAM/" "--Upstream:FileHosts:0=127.0.0.1:$NGINX_PORT"
  "--Logging:LogLevel:Default=Warning" "${STORE_ARGS[@]}"
)
log "migrating the database"
"$APP/curated-index" migrate "${COMMON[@]}" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; exit 2; }

NODE_PIDS=()
NODE_URLS=()
for n in 1 2; do
  port="$(free_port)"
  mkdir -p "$TMP/node$n"
  log "starting node $n on 127.0.0.1:$port"
  (cd "$TMP/node$n" && exec "$APP/curated-index" serve "${COMMON[@]}" "--Urls=http://127.0.0.1:$port" \
    "--Cache:Path=$TMP/node$n/cache") >"$TMP/node$n.log" 2>&1 &
  PIDS+=($!)
  NODE_PIDS+=($!)
  NODE_URLS+=("http://127.0.0.1:$port")
done
for n in 0 1; do
  wait_for "${NODE_URLS[n]}/healthz" 90 "${NODE_PIDS[n]}" || { cat "$TMP/node$((n + 1)).log" >&2; exit 2; }
done

# 8. Warm: every page and file through both nodes (node 1 first, so node 2 finds files node 1 stored), bodies checked.
log "warming: $(wc -l <"$TMP/paths.txt") paths through both nodes"
declare -A EXPECTED
while read -r digest path; do EXPECTED[$path]="$digest"; done <"$TMP/files.txt"
check_body() { # base path -> prints "ok", "mismatch <got>" or "status <code>"
  local code got body="$TMP/body.$BASHPID" # this shell's PID: a $(...) below would have its own
  rm -f "$body"
  code="$(curl -sS --max-time 30 -o "$body" -w '%{http_code}' "$1$2" 2>/dev/null || true)"
  if [[ "$code" != 200 ]]; then echo "status ${code:-none}"; return; fi
  got="$(if [[ -f "$body" ]]; then sha256sum "$body" | cut -d' ' -f1; else echo empty; fi)"
  [[ "$got" == "${EXPECTED[$2]}" ]] && echo ok || echo "mismatch $got"
}
for base in "${NODE_URLS[@]}"; do
  while read -r path; do
    if [[ -n "${EXPECTED[$path]:-}" ]]; then
      result="$(check_body "$base" "$path")"
      [[ "$result" == ok ]] || die "warming $base$path: $result"
    else
      code="$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "$base$path")"
      [[ "$code" == 200 ]] || die "warming $base$path answered $code"
    fi
  done <"$TMP/paths.txt"
done
# A short unmeasured wrk pass per node, so that the measured run does not include JIT compilation of the hot paths.
for base in "${NODE_URLS[@]}"; do
  timeout 30 wrk -t1 -c16 -d3s -s "$HERE/paths.lua" "$base" -- "$TMP/paths.txt" >/dev/null
done
sleep 5 # let background work the warming started (stores, jobs at start-up) finish
RSS_START=("$(rss_mb "${NODE_PIDS[0]}")" "$(rss_mb "${NODE_PIDS[1]}")")
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# 9. The run: one wrk per node (half the connections each, one thread each: two cores), the sampler, the RSS reader.
log "load: $CONNECTIONS connections for ${DURATION}s over both nodes (storage $STORAGE)"
(
  while [[ ! -e "$TMP/stop" ]]; do
    printf '%s %s %s\n' "$(date +%s)" "$(rss_mb "${NODE_PIDS[0]}")" "$(rss_mb "${NODE_PIDS[1]}")"
    sleep "$RSS_INTERVAL"
  done
) >"$TMP/rss.log" &
PIDS+=($!)
mapfile -t FILE_PATHS < <(cut -d' ' -f2 "$TMP/files.txt")
(
  i=0
  while [[ ! -e "$TMP/stop" ]]; do
    n=$((i % 2))
    path="${FILE_PATHS[RANDOM % ${#FILE_PATHS[@]}]}"
    printf '%s %s %s\n' "node$((n + 1))" "$path" "$(check_body "${NODE_URLS[n]}" "$path")"
    i=$((i + 1))
    sleep 0.25
  done
) >"$TMP/samples.log" &
SAMPLER=$!
PIDS+=($SAMPLER)
WRK_PIDS=()
for n in 0 1; do
  conns=$((CONNECTIONS / 2 + (n == 0 ? CONNECTIONS % 2 : 0)))
  timeout $((DURATION + 60)) wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 10s -s "$HERE/paths.lua" "${NODE_URLS[n]}" \
    -- "$TMP/paths.txt" >"$TMP/wrk$((n + 1)).log" 2>&1 &
  PIDS+=($!)
  WRK_PIDS+=($!)
done
WRK_FAILED=0
for pid in "${WRK_PIDS[@]}"; do wait "$pid" || WRK_FAILED=1; done
touch "$TMP/stop" # ends the sampler and the RSS reader after their current step
wait "$SAMPLER" 2>/dev/null || true
for n in 0 1; do kill -0 "${NODE_PIDS[n]}" 2>/dev/null || die "node $((n + 1)) died during the run: $(tail -5 "$TMP/node$((n + 1)).log")"; done
RSS_END=("$(rss_mb "${NODE_PIDS[0]}")" "$(rss_mb "${NODE_PIDS[1]}")")

# After the run: every file from both nodes once more.
FINAL_BAD=0
for n in 0 1; do
  for path in "${FILE_PATHS[@]}"; do
    result="$(check_body "${NODE_URLS[n]}" "$path")"
    if [[ "$result" != ok ]]; then
      echo "node$((n + 1)) $path $result" >&2
      FINAL_BAD=$((FINAL_BAD + 1))
    fi
  done
done

# 10. Report.
echo
echo "CuratedIndex load: $CONNECTIONS connections for ${DURATION}s over 2 nodes (PostgreSQL, storage $STORAGE), $(nproc) cores, $(date -u +'%Y-%m-%d %H:%M UTC')"
echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg); mirror: $PROJECTS pages and $((PROJECTS * FILES_PER_PROJECT)) files of 4-256 KB"
echo
for n in 1 2; do
  if ! grep -q '^RESULT' "$TMP/wrk$n.log"; then
    echo "load: wrk against node $n printed no result:" >&2
    cat "$TMP/wrk$n.log" >&2
    WRK_FAILED=1
  fi
done
((WRK_FAILED == 0)) || exit 1
awk -v rss_start="${RSS_START[*]}" -v rss_end="${RSS_END[*]}" -v rss_log="$TMP/rss.log" '
  function field(line, name,   m) { return match(line, name "=[0-9]+") ? substr(line, RSTART + length(name) + 1, RLENGTH - length(name) - 1) + 0 : 0 }
  FNR == 1 { node++ }
  /^RESULT/ {
    req[node] = field($0, "requests"); dur[node] = field($0, "duration_us"); bytes[node] = field($0, "bytes")
    sock[node] = field($0, "connect") + field($0, "read") + field($0, "write") + field($0, "timeout"); status[node] = field($0, "status")
    p50[node] = field($0, "p50_us"); p90[node] = field($0, "p90_us"); p99[node] = field($0, "p99_us"); p999[node] = field($0, "p999_us"); mx[node] = field($0, "max_us")
  }
  END {
    split(rss_start, start, " "); split(rss_end, end, " ")
    while ((getline line < rss_log) > 0) { split(line, r, " "); for (i = 1; i <= 2; i++) if (r[i + 1] > peak[i]) peak[i] = r[i + 1] }
    print "| node | requests | req/s | MB/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | socket errors | non-2xx/3xx | RSS start / peak / end MB |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= 2; i++) {
      rps = req[i] / (dur[i] / 1e6); total_rps += rps; total_req += req[i]; errors += sock[i] + status[i]
      printf "| %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %d | %d / %d / %d |\n", i, req[i], rps, bytes[i] / (dur[i] / 1e6) / 1048576,
        p50[i] / 1000, p90[i] / 1000, p99[i] / 1000, p999[i] / 1000, mx[i] / 1000, sock[i], status[i], start[i], peak[i], end[i]
    }
    printf "| both | %d | %.0f | | | | | | | | | |\n", total_req, total_rps
    print errors > "/dev/stderr"
  }' "$TMP/wrk1.log" "$TMP/wrk2.log" 2>"$TMP/errors.count"
ERRORS="$(cat "$TMP/errors.count")"
SAMPLES="$(wc -l <"$TMP/samples.log")"
SAMPLE_BAD="$(grep -vc ' ok$' "$TMP/samples.log" || true)"
MISMATCHES="$(grep -c ' mismatch ' "$TMP/samples.log" || true)"
echo
echo "sampled bodies during the run: $SAMPLES (both nodes), sha256 mismatches: $MISMATCHES, other failures: $((SAMPLE_BAD - MISMATCHES))"
echo "every file from both nodes after the run: $((2 * ${#FILE_PATHS[@]})) checked, $FINAL_BAD wrong"
echo "RSS every ${RSS_INTERVAL}s (MB, node 1 / node 2): $(awk '{ printf "%s%s/%s", (NR > 1 ? " " : ""), $2, $3 }' "$TMP/rss.log")"
grep -v ' ok$' "$TMP/samples.log" | head -5 >&2 || true
if ((ERRORS > 0 || SAMPLE_BAD > 0 || FINAL_BAD > 0)); then
  echo "FAIL: $ERRORS errors, $SAMPLE_BAD bad samples, $FINAL_BAD wrong files after the run"
  exit 1
fi
echo "PASS: no errors, every sampled body's sha256 correct"
