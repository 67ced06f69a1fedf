# Server start-up and shutdown shared by the end-to-end suites (api_e2e.sh, app_e2e.sh); sourced,
# not run. Before sourcing, a script sets E2E_NAME (its name in messages); the functions use PY.
#
#   e2e_binary [MUSE_BINARY]    sets bin: the given executable, else `swift build --product muse`
#   e2e_smollm2                 prints the cached SmolLM2 path, fetching it once
#   e2e_fixture NAME            prints Tests/Fixtures/models/NAME, failing if it is missing
#   e2e_free_port               prints a free port of 127.0.0.1
#   e2e_start_server CONFIG DATA PORT LOG PIDFILE
#                               starts `$bin serve` in the background (pid in PIDFILE), waits
#                               until /health answers and the first-run admin key is in LOG
#   e2e_admin_key LOG           prints the admin key of the first-run banner
#   e2e_stop_server PIDFILE     TERM, then KILL after 5 s; no-op without a pid
#
# The suites start one server each: the API suite kills its server with -9 and restarts it, and
# the two configurations differ (see Scripts/README.md).

e2e_say() { echo "== $E2E_NAME: $*"; }
e2e_die() {
  echo "$E2E_NAME: error: $*" >&2
  exit 1
}

e2e_binary() {
  if [ $# -ge 1 ] && [ -n "$1" ]; then
    bin="$1"
  else
    e2e_say "building muse"
    swift build --product muse
    bin="$(swift build --show-bin-path)/muse"
  fi
  [ -x "$bin" ] || e2e_die "$bin is not an executable"
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
}

e2e_smollm2() {
  local path="${MUSE_CACHE_DIR:-$HOME/.cache/muse}/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  [ -s "$path" ] || bash Scripts/fixtures/fetch-smollm2.sh >/dev/null
  [ -s "$path" ] || e2e_die "$path is missing (run Scripts/fixtures/fetch-smollm2.sh)"
  echo "$path"
}

e2e_fixture() {
  local path
  path="$(pwd)/Tests/Fixtures/models/$1"
  [ -s "$path" ] || e2e_die "$path is missing (python3 Scripts/fixtures/make_fixtures.py, make_scripted_model.py)"
  echo "$path"
}

e2e_free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

e2e_admin_key() {
  sed -n 's/^Admin key (shown once, keep it safe): \(muse-[A-Za-z0-9]*\).*$/\1/p' "$1" | head -n 1
}

e2e_start_server() {
  local config="$1" data="$2" port="$3" log="$4" pidfile="$5" ready=""
  e2e_say "starting muse serve on 127.0.0.1:$port"
  "$bin" serve --config "$config" --port "$port" --data-dir "$data" >"$log" 2>&1 &
  echo $! >"$pidfile"
  disown # the API suite kills it with -9: no job report from bash
  for _ in $(seq 450); do # 90 s: loading the models and hashing them the first time
    if [ -n "$(e2e_admin_key "$log")" ] \
      && curl -fsS --max-time 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      ready=1
      break
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || e2e_die "muse serve exited: $(tail -n 20 "$log")"
    sleep 0.2
  done
  [ -n "$ready" ] || e2e_die "no admin key on the server's stdout or no /health answer after 90 s"
}

e2e_stop_server() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
