# Private PostgreSQL and Redis instances for the tests: installed from Debian when missing, started on
# free loopback ports in a temporary folder, never as system services. Sourced by test.sh.

services_dir=$(mktemp -d /tmp/whisper-services.XXXXXX)
chmod 755 "$services_dir"
# The fault tests stop and start these services with tests/service-ctl.sh, which finds them through these.
export WHISPER_TEST_SERVICES_DIR=$services_dir
. "$(dirname "${BASH_SOURCE[0]}")/service-ctl.sh"

# A port below Linux's ephemeral range (32768-60999 by default, /proc/sys/net/ipv4/ip_local_port_range): a
# port in that range can be taken by any outgoing connection, such as a load test's, before the service binds it.
free_port() {
  local port
  for port in $(shuf -i 20000-32767 -n 100); do
    if ! port_answers "$port"; then echo "$port"; return 0; fi
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

start_postgres() {
  export WHISPER_TEST_POSTGRES_BIN WHISPER_TEST_POSTGRES_PORT
  WHISPER_TEST_POSTGRES_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  WHISPER_TEST_POSTGRES_PORT=$(free_port) || return 1
  mkdir -p "$services_dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$services_dir/pg"
  as_postgres "$WHISPER_TEST_POSTGRES_BIN/initdb" -D "$services_dir/pg/data" -A trust -U postgres --no-sync >/dev/null || return 1
  postgres_start || return 1
  export WHISPER_TEST_POSTGRES="Host=127.0.0.1;Port=$WHISPER_TEST_POSTGRES_PORT;Username=postgres"
  postgres_bin=$WHISPER_TEST_POSTGRES_BIN
}

start_redis() {
  export WHISPER_TEST_REDIS_PORT
  WHISPER_TEST_REDIS_PORT=$(free_port) || return 1
  redis_start || return 1
  export WHISPER_TEST_REDIS="127.0.0.1:$WHISPER_TEST_REDIS_PORT"
}

# s3rver from npm (pinned in tests/s3): an S3-compatible server, enough to test the S3 file store.
start_s3() {
  local port
  port=$(free_port) || return 1
  (cd tests/s3 && npm ci --no-audit --no-fund --silent >/dev/null) || return 1
  node tests/s3/node_modules/.bin/s3rver --directory "$services_dir/s3" --address 127.0.0.1 --port "$port" --silent \
    >"$services_dir/s3.log" 2>&1 &
  s3_pid=$!
  s3_serving() { kill -0 "$s3_pid" 2>/dev/null && port_answers "$port"; }
  wait_until_serving S3 "$services_dir/s3.log" s3_serving || return 1
  export WHISPER_TEST_S3="http://127.0.0.1:$port"
}

stop_services() {
  [ -n "${s3_pid:-}" ] && kill "$s3_pid" 2>/dev/null
  [ -n "${postgres_bin:-}" ] && as_postgres "$postgres_bin/pg_ctl" -D "$services_dir/pg/data" -m immediate stop >/dev/null 2>&1
  [ -f "$services_dir/redis.pid" ] && kill "$(cat "$services_dir/redis.pid")" 2>/dev/null
  rm -rf "$services_dir"
}
