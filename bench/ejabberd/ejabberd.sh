# ejabberd 23.01 from Debian as a peer in the chat benchmarks: a private instance in $services_dir/ejabberd
# (its own config, spool, database and logs), never the system service, every port on 127.0.0.1.
# Sourced by bench/run.sh after tests/services.sh (free_port, $services_dir):
#   start_ejabberd   installs the packages if missing, starts the instance; sets EJABBERD_PID (the
#                    beam.smp process: the server's CPU and memory) and ejabberd_url (xmpp://127.0.0.1:PORT/HOST)
#   stop_ejabberd    stops it

ejabberd_template="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ejabberd.yml.template"

install_ejabberd() {
  [ -x /usr/sbin/ejabberdctl ] && dpkg -s erlang-p1-sqlite3 >/dev/null 2>&1 && command -v sqlite3 >/dev/null && return 0
  echo "installing ejabberd"
  # The package would start ejabberd (and epmd) as system services listening on every interface; a
  # policy-rc.d that answers 101 ("action forbidden") keeps invoke-rc.d and deb-systemd-invoke from it.
  local policy=/usr/sbin/policy-rc.d ours=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=true
  fi
  local failed=false
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ejabberd erlang-p1-sqlite3 sqlite3 >/dev/null; } || failed=true
  if $ours; then rm -f "$policy"; fi
  ! $failed
}

# A system-wide ejabberd (started before this script, or by an install elsewhere) would compete for the
# machine's two cores; its node runs from the package's spool folder.
stop_system_ejabberd() {
  local pid tries
  for pid in $(pgrep -f 'beam\.smp.*-mnesia dir "/var/lib/ejabberd"'); do
    echo "stopping the system ejabberd ($pid)"
    kill "$pid" 2>/dev/null || true
    tries=0
    while kill -0 "$pid" 2>/dev/null && [ $tries -lt 100 ]; do tries=$((tries + 1)); sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# ejabberdctl with the private instance's files. As root it runs the node as the ejabberd user the package
# created (ejabberd refuses to run as root).
ejabberdctl_private() {
  local dir=$services_dir/ejabberd
  ERL_EPMD_PORT=$ejabberd_epmd_port ejabberdctl --config-dir "$dir" --config "$dir/ejabberd.yml" \
    --ctl-config "$dir/ejabberdctl.cfg" --logs "$dir/log" --spool "$dir/spool" "$@"
}

start_ejabberd() {
  install_ejabberd || return 1
  stop_system_ejabberd
  local dir=$services_dir/ejabberd host=bench.localhost c2s_port dist_port
  # A fresh instance each time: no database, spool or logs of an earlier one.
  rm -rf "$dir"
  c2s_port=$(free_port)
  dist_port=$(free_port)
  ejabberd_epmd_port=$(free_port)
  mkdir -p "$dir/spool" "$dir/log"
  sed -e "s|@HOST@|$host|g" -e "s|@C2S_PORT@|$c2s_port|g" -e "s|@DATABASE@|$dir/spool/ejabberd.db|g" \
    "$ejabberd_template" >"$dir/ejabberd.yml"
  # Erlang distribution (what ejabberdctl talks over) on a fixed loopback port: with ERL_DIST_PORT set,
  # ejabberdctl starts the node with -start_epmd false, so no port mapper runs at all. Should anything
  # start one anyway, it would be private: loopback, its own port.
  cat >"$dir/ejabberdctl.cfg" <<EOF
ERLANG_NODE=ejabberd-bench@localhost
ERL_DIST_PORT=$dist_port
INET_DIST_INTERFACE=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
EJABBERD_PID_PATH=$dir/ejabberd.pid
EJABBERD_BYPASS_WARNINGS=true
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EOF
  cp /etc/ejabberd/inetrc "$dir/inetrc"
  # The database as Whisper keeps its own: in WAL mode, with SQLite's default synchronous=FULL. ejabberd
  # would create it from the same schema, but in rollback-journal mode, where each commit costs several
  # fsyncs; WAL is a property of the file, so the file is made here and ejabberd finds its tables in place.
  sqlite3 "$dir/spool/ejabberd.db" "PRAGMA journal_mode=WAL;" ".read /usr/share/ejabberd/sql/lite.sql" >/dev/null || return 1
  [ "$(id -u)" = 0 ] && chown -R ejabberd "$dir"
  ejabberdctl_private start || return 1
  local tries=0
  until [ -s "$dir/ejabberd.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$c2s_port") 2>/dev/null; do
    tries=$((tries + 1))
    if [ $tries -gt 600 ]; then
      echo "ejabberd did not answer on port $c2s_port within 60 s"; tail -n 30 "$dir/log/ejabberd.log" "$dir/log/error.log" 2>/dev/null || true
      EJABBERD_PID=$(cat "$dir/ejabberd.pid" 2>/dev/null || true)
      stop_ejabberd
      return 1
    fi
    sleep 0.1
  done
  EJABBERD_PID=$(cat "$dir/ejabberd.pid")
  export EJABBERD_PID
  export ejabberd_url="xmpp://127.0.0.1:$c2s_port/$host"
}

stop_ejabberd() {
  [ -n "${EJABBERD_PID:-}" ] || return 0
  kill "$EJABBERD_PID" 2>/dev/null || true
  local tries=0
  while kill -0 "$EJABBERD_PID" 2>/dev/null && [ $tries -lt 300 ]; do tries=$((tries + 1)); sleep 0.1; done
  kill -9 "$EJABBERD_PID" 2>/dev/null || true
  # A port mapper on this instance's private port, should one have been started.
  ERL_EPMD_PORT=${ejabberd_epmd_port:-} epmd -kill >/dev/null 2>&1 || true
  EJABBERD_PID=
}
