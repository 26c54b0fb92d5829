# shellcheck shell=bash
# Real test servers for Parity's CI: a password-protected Redis and a
# MongoDB-wire-compatible server (FerretDB + SQLite, tests/mongo_server).
#
# Source this file, then call:
#   start_redis     exports PARITY_REDIS_URL, PARITY_REDIS_SERVER_BIN,
#                   PARITY_REDIS_PORT, PARITY_REDIS_PASSWORD
#   start_mongo     exports PARITY_MONGODB_URI, PARITY_MONGO_SERVER_BIN
#   stop_services   stops whatever was started and removes its temp dir;
#                   meant for `trap stop_services EXIT`
#
# Safe under `set -euo pipefail`: on failure a function prints why on stderr
# (with the server's log tail) and returns non-zero.
#
# Knobs (all optional):
#   PARITY_REDIS_PREFERRED_PORT  default 6390 (a random free port if taken)
#   PARITY_MONGO_PREFERRED_PORT  default 27018 (a random free port if taken)
#   PARITY_SERVICE_TIMEOUT       seconds to wait for a server, default 30
#   PARITY_GO                    Go toolchain, default `go` on PATH or /usr/local/go/bin/go
#   PARITY_PYTHON                Python with pymongo for the ping, default python3
#   PARITY_CACHE_DIR             binary cache, default ${XDG_CACHE_HOME:-$HOME/.cache}/parity

_PARITY_CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_PARITY_ROOT="$(cd "${_PARITY_CI_DIR}/.." && pwd)"
# Build flags are part of the binary cache key; the PostgreSQL backend is not
# needed and leaving it out shortens the cold build.
_PARITY_MONGO_BUILD_FLAGS=(-trimpath -buildvcs=false -tags ferretdb_no_postgresql)

_svc_log() { printf '[services] %s\n' "$*" >&2; }
_svc_err() { printf '[services] ERROR: %s\n' "$*" >&2; }

# One temp dir per shell for pidfiles, logs, configs and the SQLite data.
# Sets PARITY_SERVICES_DIR in the calling shell, so never call it in $(...).
_svc_ensure_dir() {
    if [[ -z "${PARITY_SERVICES_DIR:-}" || ! -d "${PARITY_SERVICES_DIR}" ]]; then
        PARITY_SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/parity-services.XXXXXX")" || {
            _svc_err "cannot create a temp dir under ${TMPDIR:-/tmp}"
            return 1
        }
        export PARITY_SERVICES_DIR
    fi
}

# Prints the preferred port when it can be bound on 127.0.0.1, else a free one.
_svc_pick_port() {
    local preferred="$1"
    "${PARITY_PYTHON:-python3}" - "${preferred}" <<'PY'
import socket, sys

def bindable(port: int) -> int | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
        return s.getsockname()[1]

print(bindable(int(sys.argv[1])) or bindable(0))
PY
}

_svc_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

_svc_tail_log() {
    local log="$1"
    if [[ -s "${log}" ]]; then
        _svc_err "last lines of ${log}:"
        tail -n 20 "${log}" | sed 's/^/    /' >&2
    fi
}

# Stops the process recorded in a pidfile: TERM, up to 10 s, then KILL.
# A server that died on its own is reported with its log, as that explains
# the test failures it caused.
# _svc_wait_ready NAME WHERE PID PIDFILE LOG CHECK [ARGS...]
# Polls CHECK ARGS... until it succeeds. If the server exits first, or the check
# still fails after PARITY_SERVICE_TIMEOUT seconds, says why with the log's tail,
# stops the server and returns 1.
_svc_wait_ready() {
    local name="$1" where="$2" pid="$3" pidfile="$4" log="$5"
    shift 5
    local timeout="${PARITY_SERVICE_TIMEOUT:-30}"
    local deadline=$((SECONDS + timeout))
    while :; do
        if ! _svc_alive "${pid}"; then
            _svc_err "${name} exited during startup (${where})"
            _svc_tail_log "${log}"
            rm -f "${pidfile}"
            return 1
        fi
        "$@" && return 0
        if ((SECONDS >= deadline)); then
            _svc_err "${name} at ${where} did not answer within ${timeout}s"
            _svc_tail_log "${log}"
            _svc_stop_pidfile "${pidfile}" "${name}" "${log}"
            return 1
        fi
        sleep 0.2
    done
}

_svc_redis_answers() {
    local reply
    reply="$(REDISCLI_AUTH="$2" redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null || true)"
    [[ "${reply}" == "PONG" ]]
}

# _svc_mongo_answers OUT PYTHON URI PINGLOG
_svc_mongo_answers() {
    grep -q '^ready ' "$1" 2>/dev/null &&
        "$2" -c "${_PARITY_MONGO_PING}" "$3" >/dev/null 2>>"$4"
}

_svc_stop_pidfile() {
    local pidfile="$1" name="$2" log="${3:-}" pid i
    [[ -f "${pidfile}" ]] || return 0
    pid="$(cat "${pidfile}")"
    if ! _svc_alive "${pid}"; then
        _svc_err "${name} (pid ${pid}) had already exited"
        [[ -n "${log}" ]] && _svc_tail_log "${log}"
    else
        kill -TERM "${pid}" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            _svc_alive "${pid}" || break
            sleep 0.1
        done
        if _svc_alive "${pid}"; then
            _svc_log "${name} (pid ${pid}) ignored SIGTERM; killing"
            kill -KILL "${pid}" 2>/dev/null || true
        fi
        wait "${pid}" 2>/dev/null || true
        _svc_log "stopped ${name} (pid ${pid})"
    fi
    rm -f "${pidfile}"
}

_svc_install_redis() {
    command -v redis-server >/dev/null 2>&1 && return 0
    _svc_log "redis-server not found; installing Debian's package"
    if ! command -v apt-get >/dev/null 2>&1; then
        _svc_err "redis-server is missing and apt-get is not available; install Redis and retry"
        return 1
    fi
    # A fresh machine may have no package lists: update only when the install fails.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2; then
        _svc_log "apt-get install failed; running apt-get update and retrying"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || {
            _svc_err "apt-get update failed"
            return 1
        }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2 || {
            _svc_err "apt-get install redis-server failed"
            return 1
        }
    fi
    command -v redis-server >/dev/null 2>&1 || {
        _svc_err "redis-server still not on PATH after installing it"
        return 1
    }
}

start_redis() {
    local dir bin port password conf log pidfile pid
    _svc_ensure_dir || return 1
    dir="${PARITY_SERVICES_DIR}"
    pidfile="${dir}/redis.pid"
    if [[ -f "${pidfile}" ]] && _svc_alive "$(cat "${pidfile}")"; then
        _svc_log "redis already running at 127.0.0.1:${PARITY_REDIS_PORT:-?}"
        return 0
    fi

    _svc_install_redis || return 1
    bin="$(command -v redis-server)"
    command -v redis-cli >/dev/null 2>&1 || { _svc_err "redis-cli not found next to redis-server"; return 1; }

    port="$(_svc_pick_port "${PARITY_REDIS_PREFERRED_PORT:-6390}")" || { _svc_err "cannot find a free port"; return 1; }
    password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    conf="${dir}/redis.conf"
    log="${dir}/redis.log"

    # The password goes in a 0600 config file, not argv, so `ps` never shows it.
    (
        umask 077
        cat >"${conf}" <<EOF
bind 127.0.0.1
port ${port}
requirepass ${password}
save ""
appendonly no
daemonize no
dir "${dir}"
logfile "${log}"
EOF
    )

    # Fully detached stdio: a child holding CI's stdout would keep the run open.
    "${bin}" "${conf}" </dev/null >>"${log}" 2>&1 &
    pid=$!
    echo "${pid}" >"${pidfile}"

    _svc_wait_ready redis-server "127.0.0.1:${port}" "${pid}" "${pidfile}" "${log}" \
        _svc_redis_answers "${port}" "${password}" || return 1

    export PARITY_REDIS_SERVER_BIN="${bin}"
    export PARITY_REDIS_PORT="${port}"
    export PARITY_REDIS_PASSWORD="${password}"
    export PARITY_REDIS_URL="redis://:${password}@127.0.0.1:${port}/0"
    _svc_log "redis-server ready on 127.0.0.1:${port} (pid ${pid}, password set)"
}

_svc_go() {
    if [[ -n "${PARITY_GO:-}" ]]; then
        printf '%s\n' "${PARITY_GO}"
    elif command -v go >/dev/null 2>&1; then
        command -v go
    elif [[ -x /usr/local/go/bin/go ]]; then
        printf '%s\n' /usr/local/go/bin/go
    else
        _svc_err "no Go toolchain found (set PARITY_GO or put go on PATH); needed to build tests/mongo_server"
        return 1
    fi
}

# Prints the path of the cached server binary, building it on a cache miss.
_svc_build_mongo_server() {
    local src="${_PARITY_ROOT}/tests/mongo_server" go cache key bin tmp start f
    go="$(_svc_go)" || return 1
    for f in go.mod go.sum main.go; do
        [[ -f "${src}/${f}" ]] || { _svc_err "missing ${src}/${f}"; return 1; }
    done

    # The key covers sources, toolchain and flags, so any change rebuilds.
    key="$(
        {
            cat "${src}/go.mod" "${src}/go.sum" "${src}/main.go"
            "${go}" version
            printf '%s\n' "${_PARITY_MONGO_BUILD_FLAGS[@]}"
        } | sha256sum | cut -c1-16
    )" || { _svc_err "cannot hash tests/mongo_server sources"; return 1; }
    cache="${PARITY_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/parity}"
    bin="${cache}/mongo_server-${key}"

    if [[ -x "${bin}" ]]; then
        _svc_log "using cached ${bin}"
    else
        mkdir -p "${cache}" || { _svc_err "cannot create ${cache}"; return 1; }
        tmp="${bin}.tmp.$$"
        _svc_log "building tests/mongo_server with $("${go}" version) (first build downloads modules, ~1 min)"
        start=${SECONDS}
        # GOTOOLCHAIN=local: build with this machine's Go, never fetch another.
        if ! (cd "${src}" && GOTOOLCHAIN=local GOFLAGS='' "${go}" build "${_PARITY_MONGO_BUILD_FLAGS[@]}" -o "${tmp}" .) >&2; then
            rm -f "${tmp}"
            _svc_err "go build of tests/mongo_server failed (see above)"
            return 1
        fi
        mv -f "${tmp}" "${bin}"
        _svc_log "built ${bin} in $((SECONDS - start))s"
    fi
    printf '%s\n' "${bin}"
}

# argv[1] is the URI; exits non-zero unless the server answers a real ping.
_PARITY_MONGO_PING='
import sys
import pymongo

with pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000, directConnection=True) as c:
    c.admin.command("ping")
'

start_mongo() {
    local dir bin port data log out pidfile pid uri py
    _svc_ensure_dir || return 1
    dir="${PARITY_SERVICES_DIR}"
    pidfile="${dir}/mongo.pid"
    if [[ -f "${pidfile}" ]] && _svc_alive "$(cat "${pidfile}")"; then
        _svc_log "mongo_server already running at ${PARITY_MONGODB_URI:-?}"
        return 0
    fi

    bin="$(_svc_build_mongo_server)" || return 1
    port="$(_svc_pick_port "${PARITY_MONGO_PREFERRED_PORT:-27018}")" || { _svc_err "cannot find a free port"; return 1; }
    data="$(mktemp -d "${dir}/mongo-data.XXXXXX")"
    log="${dir}/mongo.log"
    out="${dir}/mongo.out"
    : >"${out}"

    # Log level error: FerretDB warns on every client's endSessions, which
    # would bury a real failure in the log tail.
    "${bin}" -listen "127.0.0.1:${port}" -dir "${data}" -log-level error </dev/null >"${out}" 2>>"${log}" &
    pid=$!
    echo "${pid}" >"${pidfile}"
    uri="mongodb://127.0.0.1:${port}/"
    py="${PARITY_PYTHON:-python3}"

    # Ready = the server printed its "ready" line and answers a real ping.
    if ! _svc_wait_ready mongo_server "${uri}" "${pid}" "${pidfile}" "${log}" \
        _svc_mongo_answers "${out}" "${py}" "${uri}" "${dir}/mongo-ping.log"; then
        _svc_tail_log "${dir}/mongo-ping.log"
        return 1
    fi

    export PARITY_MONGO_SERVER_BIN="${bin}"
    export PARITY_MONGODB_URI="${uri}"
    _svc_log "mongo_server (FerretDB/SQLite) ready at ${uri} (pid ${pid})"
}

stop_services() {
    local dir="${PARITY_SERVICES_DIR:-}"
    [[ -n "${dir}" && -d "${dir}" ]] || return 0
    _svc_stop_pidfile "${dir}/redis.pid" redis-server "${dir}/redis.log"
    _svc_stop_pidfile "${dir}/mongo.pid" mongo_server "${dir}/mongo.log"
    rm -rf "${dir}"
    unset PARITY_SERVICES_DIR
}
