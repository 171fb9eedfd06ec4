#!/usr/bin/env bash
# Stops and starts the private PostgreSQL and Redis of tests/services.sh on the same port and data, so
# that the fault tests can take a dependency away under load and bring it back:
#
#   tests/service-ctl.sh stop|start|restart postgres|redis
#   tests/service-ctl.sh pause|resume redis
#
# PostgreSQL stops with "immediate" (no checkpoint, every connection cut, crash recovery at the next
# start); Redis is killed with SIGKILL. Where they live comes from the variables services.sh exports.
# services.sh sources this file for the same start commands, so there is one way to start each.

# PostgreSQL refuses to run as root: as root, run it as the postgres user the package created.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Whether something listens on this loopback port.
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits (bounded: 15 s) until "$@" succeeds, that is until the service answers; otherwise prints the
# tail of its log and fails. Every check also asks whether our own process is alive, so that another
# program that holds the port (the reason a start fails) is never taken for the service.
wait_until_serving() {
  local name=$1 log=$2 tries=0
  shift 2
  until "$@"; do
    tries=$((tries + 1))
    if [ $tries -gt 150 ]; then
      echo "$name did not start within 15 s; the end of its log ($log):" >&2
      tail -n 50 "$log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
}

# pg_ctl -w waits (bounded by -t) until its own postmaster accepts connections, or fails when it exits.
postgres_start() {
  local log=$WHISPER_TEST_SERVICES_DIR/pg/log
  as_postgres "$WHISPER_TEST_POSTGRES_BIN/pg_ctl" -D "$WHISPER_TEST_SERVICES_DIR/pg/data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $WHISPER_TEST_POSTGRES_PORT -k $WHISPER_TEST_SERVICES_DIR/pg -c max_connections=500 -c fsync=off" start >/dev/null \
    || { echo "PostgreSQL did not start on 127.0.0.1:$WHISPER_TEST_POSTGRES_PORT; the end of its log ($log):" >&2; tail -n 50 "$log" >&2; return 1; }
}

postgres_stop() {
  as_postgres "$WHISPER_TEST_POSTGRES_BIN/pg_ctl" -D "$WHISPER_TEST_SERVICES_DIR/pg/data" -m immediate -w -t 60 stop >/dev/null
}

# Our Redis (the process of the pid file) is alive and answers PING on its port.
redis_serving() {
  local pid
  pid=$(cat "$WHISPER_TEST_SERVICES_DIR/redis.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null &&
    [ "$(redis-cli -h 127.0.0.1 -p "$WHISPER_TEST_REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

redis_start() {
  local log=$WHISPER_TEST_SERVICES_DIR/redis.log
  rm -f "$WHISPER_TEST_SERVICES_DIR/redis.pid"
  redis-server --bind 127.0.0.1 --port "$WHISPER_TEST_REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --dir "$WHISPER_TEST_SERVICES_DIR" --pidfile "$WHISPER_TEST_SERVICES_DIR/redis.pid" --logfile "$log" \
    || { echo "Redis did not start; the end of its log ($log):" >&2; tail -n 50 "$log" >&2 2>/dev/null; return 1; }
  wait_until_serving Redis "$log" redis_serving
}

redis_stop() {
  local pid tries=0
  pid=$(cat "$WHISPER_TEST_SERVICES_DIR/redis.pid" 2>/dev/null) || { echo "Redis is not running (no pid file)" >&2; return 1; }
  kill -9 "$pid" || return 1
  # Bounded: 10 s in steps of 0.1 s.
  while kill -0 "$pid" 2>/dev/null || port_answers "$WHISPER_TEST_REDIS_PORT"; do
    tries=$((tries + 1)); [ $tries -gt 100 ] && { echo "Redis (pid $pid) did not stop" >&2; return 1; }; sleep 0.1
  done
  rm -f "$WHISPER_TEST_SERVICES_DIR/redis.pid"
}

# A stalled Redis (SIGSTOP, then SIGCONT): connected but silent, so commands time out instead of failing to connect.
redis_signal() {
  local pid
  pid=$(cat "$WHISPER_TEST_SERVICES_DIR/redis.pid" 2>/dev/null) || { echo "Redis is not running (no pid file)" >&2; return 1; }
  kill "-$1" "$pid"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-} ${2:-}" in
    "stop postgres") postgres_stop ;;
    "start postgres") postgres_start ;;
    "restart postgres") postgres_stop && postgres_start ;;
    "stop redis") redis_stop ;;
    "start redis") redis_start ;;
    "restart redis") redis_stop && redis_start ;;
    "pause redis") redis_signal STOP ;;
    "resume redis") redis_signal CONT ;;
    *) echo "usage: $0 stop|start|restart postgres|redis, or pause|resume redis" >&2; exit 2 ;;
  esac
fi
