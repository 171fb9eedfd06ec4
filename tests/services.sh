# Private PostgreSQL and Redis instances for the tests: installed from Debian when missing, started on
# free loopback ports in a temporary folder, never as system services. Sourced by test.sh.

services_dir=$(mktemp -d /tmp/whisper-services.XXXXXX)
chmod 755 "$services_dir"

free_port() {
  local port
  for port in $(shuf -i 20000-60000 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

install_missing() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# PostgreSQL refuses to run as root: as root, run it as the postgres user the package created.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local bin port
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  port=$(free_port)
  mkdir -p "$services_dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$services_dir/pg"
  as_postgres "$bin/initdb" -D "$services_dir/pg/data" -A trust -U postgres --no-sync >/dev/null
  as_postgres "$bin/pg_ctl" -D "$services_dir/pg/data" -l "$services_dir/pg/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $services_dir/pg -c max_connections=500 -c fsync=off" start >/dev/null
  export WHISPER_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres"
  postgres_bin=$bin
}

start_redis() {
  local port
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --dir "$services_dir" --pidfile "$services_dir/redis.pid" --logfile "$services_dir/redis.log"
  export WHISPER_TEST_REDIS="127.0.0.1:$port"
}

# s3rver from npm (pinned in tests/s3): an S3-compatible server, enough to test the S3 file store.
start_s3() {
  local port
  port=$(free_port)
  (cd tests/s3 && npm ci --no-audit --no-fund --silent >/dev/null) || return 1
  node tests/s3/node_modules/.bin/s3rver --directory "$services_dir/s3" --address 127.0.0.1 --port "$port" --silent &
  s3_pid=$!
  local tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries + 1)); [ $tries -gt 100 ] && return 1; sleep 0.1
  done
  export WHISPER_TEST_S3="http://127.0.0.1:$port"
}

stop_services() {
  [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null
  [ -n "${postgres_bin:-}" ] && as_postgres "$postgres_bin/pg_ctl" -D "$services_dir/pg/data" -m immediate stop >/dev/null 2>&1
  [ -f "$services_dir/redis.pid" ] && kill "$(cat "$services_dir/redis.pid")" 2>/dev/null
  rm -rf "$services_dir"
}
