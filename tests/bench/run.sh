#!/usr/bin/env bash
# Throughput benchmark: CuratedIndex (Release) in front of a static PEP 503 mirror served by nginx,
# against nginx serving the same mirror directly. A report, not a test: it exits 0 whatever the
# figures, and non-zero only when something failed to run. See tests/bench/README.md.
#
# Each scenario alternates nginx and the proxy for BENCH_ROUNDS rounds of BENCH_DURATION seconds
# (defaults 2 and 5) and keeps each side's best round, so that load from other processes on the
# machine hurts both sides alike instead of whichever happened to run at the time. Before its rounds, each
# scenario runs wrk unmeasured for BENCH_WARMUP seconds (default 1) against each side, so that the proxy's
# code for that path is jitted (tiered compilation) before it is measured.
# BENCH_KEEP=1 keeps the temp dir (mirror, logs, raw wrk output).
#
# The gzip scenarios send Accept-Encoding: gzip to both sides (nginx answers from the mirror's pre-compressed .gz
# twins with gzip_static). The tier 3 scenario vets the newest release of the mirror's 'vetted' project through the
# proxy's API (a bench-only policy directory with a tier 3 environment 'prod' without cooldown), then copies the
# proxy's tier 3 page into the mirror, so that nginx serves the same bytes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DURATION="${BENCH_DURATION:-5}"
ROUNDS="${BENCH_ROUNDS:-2}"
WARMUP="${BENCH_WARMUP:-1}"

DATA="$(dirname "$REPO")/shared/data"
[[ -f "$DATA/pypi-project-names.txt.gz" ]] || DATA=/work/shared/data
NAMES="$DATA/pypi-project-names.txt.gz"
[[ -f "$NAMES" ]] || { echo "bench: $NAMES not found" >&2; exit 1; }

log() { printf '==> %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null || [[ ! -x /usr/sbin/nginx ]]; then
  log "installing nginx and wrk"
  apt-get install -y nginx wrk >/dev/null
fi

TMP="$(mktemp -d /tmp/curated-bench.XXXXXX)"
chmod 755 "$TMP" # nginx workers run as www-data when started by root
NGINX_PID=""
PROXY_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$PROXY_PID" ]]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  if [[ -n "$NGINX_PID" ]]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # url seconds pid
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "bench: process $3 exited while waiting for $1" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: $1 did not answer within $2 s" >&2
  return 1
}

# CPU ticks (utime + stime) of a process and its direct children (nginx's workers), from /proc/<pid>/stat.
cpu_ticks() { # pid
  local p t=0 stat
  for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
    stat="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
    stat="${stat##*) }" # fields after the command name, which may contain spaces
    t=$((t + $(awk '{ print $12 + $13 }' <<<"$stat")))
  done
  echo "$t"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# 1. Build.
log "publishing CuratedIndex (Release)"
dotnet publish "$REPO/src/CuratedIndex" -c Release -o "$TMP/app" --nologo -v quiet >"$TMP/publish.log" 2>&1 \
  || { cat "$TMP/publish.log" >&2; exit 1; }

# 2. Mirror.
log "generating the mirror"
python3 "$HERE/make-mirror.py" "$TMP/mirror" "$NAMES" "$REPO/tests/CuratedIndex.Tests/Fixtures/dists" >&2

# 3. nginx.
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  gzip_static on; # index.html.gz beside index.html, for a client that accepts gzip
  gzip_vary on;
  keepalive_requests 1000000;
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
log "starting nginx on 127.0.0.1:$NGINX_PORT"
/usr/sbin/nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" &
NGINX_PID=$!
NGINX="http://127.0.0.1:$NGINX_PORT"
wait_for "$NGINX/simple/small/" 10 "$NGINX_PID"

# 4. CuratedIndex, with the bench's own policies: dev (tier 1, passthrough) and prod (tier 3) without a cooldown, so
# that a reviewer may vet a release the moment the proxy first sees it (no break-glass). The bootstrap admin token is
# random per run and passed in the environment, not on the command line.
mkdir -p "$TMP/policies"
cat >"$TMP/policies/environments.yaml" <<'YAML'
environments:
  dev: { tier: 1 }
  prod: { tier: 3, cooldown: 0d, criteria: safe-to-deploy }
YAML
ADMIN_TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
PROXY_PORT="$(free_port)"
log "starting CuratedIndex on 127.0.0.1:$PROXY_PORT"
Auth__BootstrapAdminToken="$ADMIN_TOKEN" dotnet "$TMP/app/curated-index.dll" \
  "--Urls=http://127.0.0.1:$PROXY_PORT" \
  "--Upstream:Url=$NGINX/" \
  "--Upstream:FileHosts:0=127.0.0.1:$NGINX_PORT" \
  "--contentRoot=$REPO" \
  "--Policies:Path=$TMP/policies" \
  "--Storage:Path=$TMP/artifacts" \
  "--Cache:Path=$TMP/cache" \
  "--ConnectionStrings:CuratedIndex=Data Source=$TMP/ci.db" \
  "--Logging:LogLevel:Default=Warning" \
  >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
PROXY="http://127.0.0.1:$PROXY_PORT"
wait_for "$PROXY/healthz" 60 "$PROXY_PID" || { cat "$TMP/proxy.log" >&2; exit 1; }

# 5. Tier 3: approve the project and vet its newest release the way a reviewer does, through the API (both audited
# decisions; the vetting pins the file upstream lists and stores it in the background, so that file exists in the
# mirror). Then the proxy's tier 3 page goes into the mirror, with its gzip twin, for nginx to serve the same bytes.
VETTED_VERSION=1.0.39
api_post() { # path json
  local code
  code="$(curl -sS -o "$TMP/api.out" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -d "$2" "$PROXY$1")"
  [[ "$code" == 200 ]] || { echo "bench: POST $1 answered $code: $(cat "$TMP/api.out")" >&2; exit 1; }
}
log "tier 3: approving 'vetted' and vetting $VETTED_VERSION"
api_post /api/v1/projects/vetted/approve '{"reason": "bench: the tier 3 page scenario"}'
api_post "/api/v1/projects/vetted/releases/$VETTED_VERSION/vet" '{"reason": "bench: the tier 3 page scenario"}'
mkdir -p "$TMP/mirror/simple-tier3/vetted"
TIER3_PAGE="$TMP/mirror/simple-tier3/vetted/index.html"
curl -fsS -H 'Accept:' -o "$TIER3_PAGE" "$PROXY/prod/simple/vetted/"
grep -q "vetted-$VETTED_VERSION-py3-none-any.whl" "$TIER3_PAGE" \
  || { echo "bench: the proxy's tier 3 page does not list the vetted release:" >&2; cat "$TIER3_PAGE" >&2; exit 1; }
python3 "$HERE/make-mirror.py" --gzip "$TIER3_PAGE"
cmp -s <(curl -fsS -H 'Accept:' "$NGINX/simple-tier3/vetted/") <(curl -fsS -H 'Accept:' "$PROXY/prod/simple/vetted/") \
  || { echo "bench: nginx's copy of the tier 3 page differs from the proxy's" >&2; exit 1; }

# 6. Check what each side answers to Accept-Encoding: gzip. nginx must (or the gzip scenarios compare nothing); the
# proxy should, and a proxy that does not is reported, not failed, since its figures then show the cost of not doing it.
WARNINGS=""
encoding_of() { # url: the Content-Encoding answered to Accept-Encoding: gzip (empty when none)
  curl -fsS -H 'Accept:' -H 'Accept-Encoding: gzip' -D - -o /dev/null "$1" \
    | awk -F': *' 'tolower($1) == "content-encoding" { gsub(/\r/, "", $2); print $2 }'
}
for pair in /simple/small/=/dev/simple/small/ /simple/bigproject/=/dev/simple/bigproject/ /simple/=/dev/simple/ \
  /simple-tier3/vetted/=/prod/simple/vetted/; do
  [[ "$(encoding_of "$NGINX${pair%%=*}")" == gzip ]] \
    || { echo "bench: nginx does not answer ${pair%%=*} with Content-Encoding: gzip (gzip_static, .gz twin?)" >&2; exit 1; }
  if [[ "$(encoding_of "$PROXY${pair#*=}")" != gzip ]]; then
    WARNINGS+="WARNING: the proxy answers ${pair#*=} to Accept-Encoding: gzip uncompressed (no Content-Encoding: gzip)"$'\n'
  elif ! cmp -s <(curl -fsS -H 'Accept:' -H 'Accept-Encoding: gzip' "$PROXY${pair#*=}" | gunzip) \
    <(curl -fsS -H 'Accept:' "$PROXY${pair#*=}"); then
    WARNINGS+="WARNING: the proxy's gzip answer for ${pair#*=} does not decompress to its uncompressed answer"$'\n'
  fi
done
[[ -z "$WARNINGS" ]] || printf '%s' "$WARNINGS" >&2

# 7. Warm, then measure.
warm() { # url [curl args]: no Accept header, as wrk sends none
  local code url="$1"
  shift
  code="$(curl -sS -o /dev/null -w '%{http_code}' -H 'Accept:' "$@" "$url")"
  [[ "$code" == 200 ]] || { echo "bench: warming $url answered $code" >&2; cat "$TMP/proxy.log" >&2; exit 1; }
}
log "warming the proxy"
for path in /dev/simple/small/ /dev/simple/bigproject/ /dev/simple/ /prod/simple/vetted/; do
  warm "$PROXY$path"
  warm "$PROXY$path" -H 'Accept-Encoding: gzip'
done
warm "$PROXY/dev/files/big/big-1.0.0-py3-none-any.whl"

# Background work the set-up started (the vetting's stored file, start-up jobs) would be charged to the first
# scenario's CPU per request: wait until the proxy is idle, under 5% of a core over a second, for at most 30 s.
SETTLED="not idle after 30 s"
for ((i = 1; i <= 30; i++)); do
  before="$(cpu_ticks "$PROXY_PID")"
  sleep 1
  busy=$((($(cpu_ticks "$PROXY_PID") - before) * TICK_US / 10000)) # percent of one core in that second
  if ((busy < 5)); then SETTLED="idle after ${i} s"; break; fi
  log "proxy busy before the scenarios: ${busy}% of a core in the last second"
done
log "proxy $SETTLED"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# wrk summary as "req/s p50_ms p99_ms MB/s cpu_us_per_request"; latencies and transfer converted from
# wrk's units; the CPU is the server's (pid and its children) during the run, divided by the requests.
run_wrk() { # url connections server-pid [wrk args, e.g. -H 'Accept-Encoding: gzip']
  local out before after url="$1" conns="$2" pid="$3"
  shift 3
  before="$(cpu_ticks "$pid")"
  out="$(wrk -t2 -c"$conns" -d"${DURATION}s" --latency "$@" "$url")" || { echo "bench: wrk failed on $url" >&2; return 1; }
  after="$(cpu_ticks "$pid")"
  printf '%s\n' "$out" >>"$TMP/wrk.log"
  awk -v cpu_us="$(((after - before) * TICK_US))" '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/)  return v * 60000
      if (v ~ /s$/)  return v * 1000
      return v + 0
    }
    function mb(v) {
      if (v ~ /GB$/) return v * 1024
      if (v ~ /MB$/) return v + 0
      if (v ~ /KB$/) return v / 1024
      if (v ~ /B$/)  return v / 1048576
      return v + 0
    }
    $1 == "Requests/sec:" { rps = $2 }
    $1 ~ /^[0-9]+$/ && $2 == "requests" { requests = $1 }
    $1 == "Transfer/sec:" { xfer = mb($2) }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses/ { bad = $NF }
    END {
      if (rps == "") exit 1
      if (bad != "") printf "bench: %s non-2xx/3xx responses\n", bad > "/dev/stderr"
      printf "%.1f %.2f %.2f %.2f %.0f\n", rps, p50, p99, xfer, (requests > 0 ? cpu_us / requests : 0)
    }' <<<"$out"
}

RESULTS="$TMP/results.tsv"
: >"$RESULTS"
best() { awk 'NF && (!seen || $1 + 0 > max) { seen = 1; max = $1 + 0; line = $0 } END { print line }'; } # most req/s

scenario() { # name connections nginx-path proxy-path [wrk args, the same for both sides]
  local round n="" p="" name="$1" conns="$2" nginx_path="$3" proxy_path="$4"
  shift 4
  if ((WARMUP > 0)); then
    log "$name warm-up: ${WARMUP}s unmeasured per side"
    wrk -t2 -c"$conns" -d"${WARMUP}s" "$@" "$NGINX$nginx_path" >/dev/null
    wrk -t2 -c"$conns" -d"${WARMUP}s" "$@" "$PROXY$proxy_path" >/dev/null
  fi
  for ((round = 1; round <= ROUNDS; round++)); do
    log "$name round $round/$ROUNDS: nginx $nginx_path, proxy $proxy_path (-c$conns${*:+ $*}, ${DURATION}s each)"
    n+="$(run_wrk "$NGINX$nginx_path" "$conns" "$NGINX_PID" "$@")"$'\n'
    p+="$(run_wrk "$PROXY$proxy_path" "$conns" "$PROXY_PID" "$@")"$'\n'
  done
  printf '%s %s %s %s\n' "$name" "$conns" "$(best <<<"$n")" "$(best <<<"$p")" >>"$RESULTS"
}

GZ=(-H 'Accept-Encoding: gzip')
scenario small           32 /simple/small/                       /dev/simple/small/
scenario small-gzip      32 /simple/small/                       /dev/simple/small/       "${GZ[@]}"
scenario bigproject      32 /simple/bigproject/                  /dev/simple/bigproject/
scenario bigproject-gzip 32 /simple/bigproject/                  /dev/simple/bigproject/  "${GZ[@]}"
scenario tier3           32 /simple-tier3/vetted/                /prod/simple/vetted/
scenario tier3-gzip      32 /simple-tier3/vetted/                /prod/simple/vetted/     "${GZ[@]}"
scenario file-20MB        4 /packages/big-1.0.0-py3-none-any.whl /dev/files/big/big-1.0.0-py3-none-any.whl
scenario root             4 /simple/                             /dev/simple/
scenario root-gzip        4 /simple/                             /dev/simple/             "${GZ[@]}"
RSS_KB="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$PROXY_PID/status")"
kill -0 "$PROXY_PID" || { echo "bench: the proxy died" >&2; exit 1; }

# 8. Report.
echo
echo "CuratedIndex vs nginx: wrk -t2, best of $ROUNDS alternating ${DURATION}s rounds per side after ${WARMUP}s of warm-up, $(nproc) cores, $(date -u +'%Y-%m-%d %H:%M UTC')"
echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg); proxy $SETTLED before the first scenario"
echo
# results.tsv: name conns, then nginx's and the proxy's best "req/s p50 p99 MB/s cpu_us".
awk -v rss_kb="$RSS_KB" '
  BEGIN {
    print "| scenario | conns | nginx req/s | proxy req/s | proxy/nginx | nginx p50 / p99 ms | proxy p50 / p99 ms | nginx MB/s | proxy MB/s | nginx / proxy CPU µs/req |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  }
  {
    ratio = ($3 > 0) ? $8 / $3 : 0
    printf "| %s | %d | %.1f | %.1f | %.2f | %.2f / %.2f | %.2f / %.2f | %.1f | %.1f | %d / %d |\n", \
      $1, $2, $3, $8, ratio, $4, $5, $9, $10, $6, $11, $7, $12
    # The file is measured in MB/s (both sides send the same bytes), every page in req/s.
    name[NR] = $1
    file[NR] = ($1 ~ /^file-/)
    value[NR] = file[NR] ? (($6 > 0) ? $11 / $6 : 0) : ratio
  }
  END {
    rss = rss_kb / 1024
    printf "\nproxy RSS after the root scenarios: %.0f MB\n\n", rss
    for (i = 1; i <= NR; i++) {
      check(sprintf("%s %s >= 0.9x nginx", name[i], file[i] ? "MB/s" : "req/s"), value[i], 0.9)
    }
    printf "%-5s %-40s %.0f MB\n", (rss < 250 ? "PASS" : "MISS"), "proxy RSS < 250 MB after the root", rss
  }
  function check(label, v, target) {
    printf "%-5s %-40s %.2fx\n", (v >= target ? "PASS" : "MISS"), label, v
  }' "$RESULTS"
if [[ -n "$WARNINGS" ]]; then
  echo
  printf '%s' "$WARNINGS"
fi
