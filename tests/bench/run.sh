#!/usr/bin/env bash
# Throughput benchmark: CuratedIndex (Release) in front of a static PEP 503 mirror served by nginx,
# against nginx serving the same mirror directly. A report, not a test: it exits 0 whatever the
# figures, and non-zero only when something failed to run. See tests/bench/README.md.
#
# Each scenario alternates nginx and the proxy for BENCH_ROUNDS rounds of BENCH_DURATION seconds
# (defaults 2 and 5) and keeps each side's best round, so that load from other processes on the
# machine hurts both sides alike instead of whichever happened to run at the time.
# BENCH_KEEP=1 keeps the temp dir (mirror, logs, raw wrk output).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DURATION="${BENCH_DURATION:-5}"
ROUNDS="${BENCH_ROUNDS:-2}"

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

# 4. CuratedIndex.
PROXY_PORT="$(free_port)"
log "starting CuratedIndex on 127.0.0.1:$PROXY_PORT"
dotnet "$TMP/app/curated-index.dll" \
  "--Urls=http://127.0.0.1:$PROXY_PORT" \
  "--Upstream:Url=$NGINX/" \
  "--Upstream:FileHosts:0=127.0.0.1:$NGINX_PORT" \
  "--contentRoot=$REPO" \
  "--Storage:Path=$TMP/artifacts" \
  "--Cache:Path=$TMP/cache" \
  "--ConnectionStrings:CuratedIndex=Data Source=$TMP/ci.db" \
  "--Logging:LogLevel:Default=Warning" \
  >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
PROXY="http://127.0.0.1:$PROXY_PORT"
wait_for "$PROXY/healthz" 60 "$PROXY_PID" || { cat "$TMP/proxy.log" >&2; exit 1; }

# 5. Warm, then measure.
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
warm() {
  local code
  code="$(curl -sS -o /dev/null -w '%{http_code}' "$1")"
  [[ "$code" == 200 ]] || { echo "bench: warming $1 answered $code" >&2; cat "$TMP/proxy.log" >&2; exit 1; }
}
log "warming the proxy"
warm "$PROXY/dev/simple/small/"
warm "$PROXY/dev/simple/bigproject/"
warm "$PROXY/dev/files/big/big-1.0.0-py3-none-any.whl"
warm "$PROXY/dev/simple/"

# wrk summary as "req/s p50_ms p99_ms MB/s cpu_us_per_request"; latencies and transfer converted from
# wrk's units; the CPU is the server's (pid and its children) during the run, divided by the requests.
run_wrk() { # url connections server-pid
  local out before after
  before="$(cpu_ticks "$3")"
  out="$(wrk -t2 -c"$2" -d"${DURATION}s" --latency "$1")" || { echo "bench: wrk failed on $1" >&2; return 1; }
  after="$(cpu_ticks "$3")"
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

scenario() { # name connections nginx-path proxy-path
  local round n="" p=""
  for ((round = 1; round <= ROUNDS; round++)); do
    log "$1 round $round/$ROUNDS: nginx $3, proxy $4 (-c$2, ${DURATION}s each)"
    n+="$(run_wrk "$NGINX$3" "$2" "$NGINX_PID")"$'\n'
    p+="$(run_wrk "$PROXY$4" "$2" "$PROXY_PID")"$'\n'
  done
  printf '%s %s %s\n' "$1" "$(best <<<"$n")" "$(best <<<"$p")" >>"$RESULTS"
}

scenario small      32 /simple/small/                       /dev/simple/small/
scenario bigproject 32 /simple/bigproject/                  /dev/simple/bigproject/
scenario file-20MB   4 /packages/big-1.0.0-py3-none-any.whl /dev/files/big/big-1.0.0-py3-none-any.whl
scenario root        4 /simple/                             /dev/simple/
RSS_KB="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$PROXY_PID/status")"
kill -0 "$PROXY_PID" || { echo "bench: the proxy died" >&2; exit 1; }

# 6. Report.
echo
echo "CuratedIndex vs nginx: wrk -t2, best of $ROUNDS alternating ${DURATION}s rounds per side, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk -v rss_kb="$RSS_KB" '
  BEGIN {
    print "| scenario | conns | nginx req/s | proxy req/s | proxy/nginx | nginx p50 / p99 ms | proxy p50 / p99 ms | nginx MB/s | proxy MB/s | nginx / proxy CPU µs/req |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  }
  {
    conns = ($1 == "file-20MB" || $1 == "root") ? 4 : 32
    ratio[$1] = ($2 > 0) ? $7 / $2 : 0
    mbr[$1] = ($5 > 0) ? $10 / $5 : 0
    printf "| %s | %d | %.1f | %.1f | %.2f | %.2f / %.2f | %.2f / %.2f | %.1f | %.1f | %d / %d |\n", \
      $1, conns, $2, $7, ratio[$1], $3, $4, $8, $9, $5, $10, $6, $11
  }
  END {
    rss = rss_kb / 1024
    printf "\nproxy RSS after the root scenario: %.0f MB\n\n", rss
    check("small page req/s >= 0.9x nginx", ratio["small"], 0.9)
    check("bigproject page req/s >= 0.9x nginx", ratio["bigproject"], 0.9)
    check("root page req/s >= 0.9x nginx", ratio["root"], 0.9)
    check("20 MB file MB/s >= 0.9x nginx", mbr["file-20MB"], 0.9)
    printf "%-5s %-40s %.0f MB\n", (rss < 300 ? "PASS" : "MISS"), "proxy RSS < 300 MB after root", rss
  }
  function check(name, value, target) {
    printf "%-5s %-40s %.2fx\n", (value >= target ? "PASS" : "MISS"), name, value
  }' "$RESULTS"
