#!/usr/bin/env bash
# Measures Whisper on this machine: builds the server in Release, starts it on loopback (SQLite, then
# PostgreSQL on a private instance), drives it with bench/Whisper.Bench and writes docs/BENCHMARKS.md.
#   bench/run.sh           the full run, for people (several minutes)
#   bench/run.sh --quick   a short smoke run that test.sh executes so the harness never rots;
#                          it writes its table to the console only
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[ "${1:-}" = "--quick" ] && quick=true

dotnet build src/Whisper.Server -c Release -nologo -v quiet -p:SkipWebBuild=true >/dev/null
dotnet build bench/Whisper.Bench -c Release -nologo -v quiet >/dev/null
dotnet build bench/Whisper.Relay -c Release -nologo -v quiet >/dev/null
. tests/services.sh
. bench/ejabberd/ejabberd.sh
server_pid=
node_pids=()
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; stop_nodes; stop_ejabberd; stop_services' EXIT

# Waits (30 s at most) until the started process answers on the given path; shows its log if it does not.
wait_until_ready() {
  local path=$1 log=$2 tries=0
  until curl -sf "${server_url}${path}" >/dev/null 2>&1; do
    tries=$((tries + 1)); [ $tries -gt 300 ] && { cat "$log"; return 1; }; sleep 0.1
  done
}

# Starts a Release server with the given extra environment; sets server_pid and server_url.
start_server() {
  local name=$1; shift
  local port
  port=$(free_port)
  env ASPNETCORE_URLS="http://127.0.0.1:$port" Whisper__DataDirectory="$services_dir/data-$name" \
    Whisper__RateLimits__Enabled=false Logging__LogLevel__Default=Warning "$@" \
    dotnet src/Whisper.Server/bin/Release/net10.0/Whisper.Server.dll >"$services_dir/server-$name.log" 2>&1 &
  server_pid=$!
  server_url="http://127.0.0.1:$port/"
  wait_until_ready readyz "$services_dir/server-$name.log"
}

# The ceiling: the bare WebSocket relay of bench/Whisper.Relay, started like a server.
start_relay() {
  local port
  port=$(free_port)
  ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet bench/Whisper.Relay/bin/Release/net10.0/Whisper.Relay.dll >"$services_dir/relay.log" 2>&1 &
  server_pid=$!
  server_url="http://127.0.0.1:$port/"
  wait_until_ready ready "$services_dir/relay.log"
}

stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=; }

# A cluster on this machine: N nodes sharing one PostgreSQL database, Redis (started before) and the key that
# signs access tokens, started one after the other so that only the first migrates the database. Sets
# node_pids and node_urls.
start_nodes() {
  local count=$1 database=$2 i key
  shift 2
  key=$(openssl rand -base64 32)
  node_pids=() node_urls=()
  for i in $(seq "$count"); do
    start_server "node$i" Whisper__Database__Provider=Postgres ConnectionStrings__Whisper="$WHISPER_TEST_POSTGRES;Database=$database" \
      Whisper__Redis="$WHISPER_TEST_REDIS" Whisper__Jwt__SigningKey="$key" "$@"
    node_pids+=("$server_pid") node_urls+=("$server_url")
    server_pid=
  done
}

# The generator against the nodes of start_nodes, Redis's memory counted with theirs.
bench_nodes() {
  dotnet bench/Whisper.Bench/bin/Release/net10.0/Whisper.Bench.dll --server "${node_urls[@]}" --server-pid "${node_pids[@]}" \
    --redis-pid "$(cat "$services_dir/redis.pid")" "$@"
}

stop_nodes() {
  local pid
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  node_pids=()
}

# The generator exits 1 when a message was lost or duplicated (an acknowledged one not delivered within
# 15 s of the last send counts as lost, which far past saturation can also mean "late"). The smoke run
# stops at the first; the full run notes it, carries on with the other workloads and fails at the end.
lossy_runs=0
bench() {
  dotnet bench/Whisper.Bench/bin/Release/net10.0/Whisper.Bench.dll --server "$server_url" --server-pid "$server_pid" "$@" && return 0
  $quick && return 1
  echo "!! this run reported lost or duplicated messages (see its table)"; lossy_runs=$((lossy_runs + 1))
}

if $quick; then
  start_server quick
  bench --label "SQLite (smoke run)" --users 20 --rates 100 --seconds 2 --warm-up 2
  bench --label "SQLite (smoke run)" --users 20 --chat-size 10 --rates 20 --seconds 2 --warm-up 0
  bench --label "SQLite (smoke run)" --workload history --users 5 --history 500 --seconds 1 --warm-up 1
  bench --label "SQLite (smoke run)" --workload connections --users 5 --steps 50
  bench --label "SQLite (smoke run)" --workload receipts --users 10 --rates 50 --seconds 2 --warm-up 1
  stop_server
  # W1 spread over a cluster: two nodes with PostgreSQL and Redis.
  install_missing && start_postgres && start_redis
  start_nodes 2 whisper_smoke_nodes
  bench_nodes --label "PostgreSQL and Redis (smoke run)" --workload connections --users 5 --steps 50
  stop_nodes
  start_relay
  bench --label "smoke run" --workload relay --users 20 --chat-size 10 --rates 20 --seconds 2 --warm-up 0 --csv "$services_dir/figures.csv"
  stop_server
  # The peer's client too, when ejabberd can be installed here (it comes from Debian's archive).
  if start_ejabberd; then
    dotnet bench/Whisper.Bench/bin/Release/net10.0/Whisper.Bench.dll --server "$ejabberd_url" --server-pid "$EJABBERD_PID" \
      --workload xmpp --label "ejabberd (smoke run)" --users 10 --chat-size 5 --rates 10 --seconds 2 --warm-up 0
    stop_ejabberd
  else
    echo "ejabberd could not be started: its smoke run is skipped"
  fi
  dotnet bench/Whisper.Bench/bin/Release/net10.0/Whisper.Bench.dll plot --csv "$services_dir/figures.csv" --out "$services_dir/plots"
  [ -s "$services_dir/plots/chat.png" ] || { echo "the smoke run drew no chart"; exit 1; }
  exit 0
fi

out=docs/BENCHMARKS.md
tables=$(mktemp)
figures=$(mktemp)
start_server sqlite
bench --label "Whisper, SQLite" --chart w2 --csv "$figures" --users 200 --rates 250,500,1000,2000,3000,4000,5000,6000,8000 --seconds 10 --markdown "$tables"
stop_server
start_server sqlite-groups
bench --label "Whisper, SQLite" --chart w3-20 --csv "$figures" --users 200 --chat-size 20 --rates 50,100,200,400,800,1600,3200,4800,6400 --seconds 10 --markdown "$tables"
stop_server
start_server sqlite-large-group
bench --label "Whisper, SQLite" --chart w3-500 --csv "$figures" --users 500 --chat-size 500 --rates 5,10,20,40,80,160,320,480,640 --seconds 10 --markdown "$tables"
stop_server
start_relay
bench --label "bare relay" --chart w3-20 --csv "$figures" --workload relay --users 200 --chat-size 20 --rates 50,100,200,400,800,1600,3200,6400,12800,25600 --seconds 10 --markdown "$tables"
stop_server
start_relay
bench --label "bare relay" --chart w3-500 --csv "$figures" --workload relay --users 500 --chat-size 500 --rates 5,10,20,40,80,160,320,640,1280,2560 --seconds 10 --markdown "$tables"
stop_server
# 19,000: this machine's containers allow 20,000 open files per process (a hard limit root cannot raise).
start_server sqlite-connections
bench --label "Whisper, SQLite" --workload connections --users 100 --steps 1000,5000,10000,19000 --markdown "$tables"
stop_server
# The same with the workstation GC, which holds less spare heap per connection (an operator's choice, see operations.md).
start_server sqlite-connections-workstation-gc DOTNET_gcServer=0
bench --label "Whisper, SQLite, workstation GC" --workload connections --users 100 --steps 1000,5000,10000,19000 --markdown "$tables"
stop_server
start_server sqlite-receipts
bench --label "Whisper, SQLite" --workload receipts --users 500 --rates 100,250,500,1000,2000,4000 --markdown "$tables"
stop_server
# The peer: ejabberd with SQLite (WAL, like Whisper's) and its message archive on, a fresh instance per
# workload as for Whisper. Its rates stop lower: past saturation its backlog outlasts the generator's
# 30 s send timeout and 15 s settling time, and an acknowledged message not delivered by then counts as lost.
xmpp() {
  start_ejabberd
  dotnet bench/Whisper.Bench/bin/Release/net10.0/Whisper.Bench.dll --server "$ejabberd_url" --server-pid "$EJABBERD_PID" \
    --workload xmpp --label "ejabberd 23.01, SQLite" --csv "$figures" --markdown "$tables" "$@" ||
    { echo "!! this run reported lost or duplicated messages (see its table)"; lossy_runs=$((lossy_runs + 1)); }
  stop_ejabberd
}
xmpp --chart w2 --users 200 --rates 250,500,1000,2000 --seconds 10
xmpp --chart w3-20 --users 200 --chat-size 20 --rates 100,200,400,800,1600 --seconds 10
xmpp --chart w3-500 --users 500 --chat-size 500 --rates 2,5,10,20 --seconds 10
start_server sqlite-history
bench --label "Whisper, SQLite" --workload history --users 50 --history 10000 --seconds 10 --markdown "$tables"
stop_server
install_missing && start_postgres
start_server postgres Whisper__Database__Provider=Postgres ConnectionStrings__Whisper="$WHISPER_TEST_POSTGRES;Database=whisper_bench"
bench --label "Whisper, PostgreSQL" --chart w2 --csv "$figures" --users 200 --rates 250,500,1000,2000,3000,4000,5000,6000,8000 --seconds 10 --markdown "$tables"
stop_server
# W1 past one process's open files: a cluster of six nodes on this machine, each holding a sixth, with the
# workstation GC (six server-GC processes on two cores hold more spare heap and contend more).
start_redis
start_nodes 6 whisper_bench_nodes DOTNET_gcServer=0
bench_nodes --label "Whisper, PostgreSQL and Redis, workstation GC" --workload connections --users 100 \
  --steps 1000,10000,25000,50000,75000,100000 --markdown "$tables"
stop_nodes
start_server postgres-receipts Whisper__Database__Provider=Postgres ConnectionStrings__Whisper="$WHISPER_TEST_POSTGRES;Database=whisper_bench_receipts"
bench --label "Whisper, PostgreSQL" --workload receipts --users 500 --rates 100,250,500,1000,2000,4000 --markdown "$tables"
stop_server

dotnet bench/Whisper.Bench/bin/Release/net10.0/Whisper.Bench.dll plot --csv "$figures" --out docs/benchmarks \
  --title "w2=W2 one-to-one: latency against offered load" "w3-20=W3 groups of 20: latency against offered load" \
  "w3-500=W3 a group of 500: latency against offered load"

# The tables replace what is between the markers; the rest of the file is written by people.
{
  echo "<!-- results:begin -->"
  echo "Written by \`bench/run.sh\` on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD): $(nproc) cores,"
  echo "$(free -g | awk '/Mem:/ {print $2}') GiB, load generator and server on the same machine over loopback. Latency is from"
  echo "the sender's hub call to each recipient's event, on the load generator's clock; every copy is counted."
  echo "SQLite runs with \`synchronous=FULL\`; the PostgreSQL test instance with \`fsync=off\`."
  echo
  echo "![W2 one-to-one](benchmarks/w2.png)"
  echo "![W3 groups of 20](benchmarks/w3-20.png)"
  echo "![W3 a group of 500](benchmarks/w3-500.png)"
  cat "$tables"
  echo "<!-- results:end -->"
} >"$tables.block"
awk -v block="$tables.block" '
  /<!-- results:begin -->/ { while ((getline line < block) > 0) print line; skipping = 1; found = 1; next }
  /<!-- results:end -->/ { skipping = 0; next }
  !skipping { print }
  END { if (!found) while ((getline line < block) > 0) print line }' "$out" >"$out.new" && mv "$out.new" "$out"
rm -f "$tables" "$tables.block" "$figures"
echo "wrote $out"
[ "$lossy_runs" -eq 0 ] || { echo "$lossy_runs run(s) reported lost or duplicated messages"; exit 1; }
