#!/usr/bin/env bash
# Make a Debian base image with python3 for building the sitrep image on a machine that cannot pull
# base images: debootstrap a minimal root file system, give it this machine's CA certificates (so pip
# works through the machine's TLS proxy, if any) and pip configuration, and `docker import` it.
#
#   scripts/make-base-image.sh TAG
#
# Needs root and debootstrap; the docker CLI is $DOCKER (default: docker) and reaches the daemon
# through DOCKER_HOST as usual. The root file system is cached as a tarball in $SITREP_CI_CACHE
# (default /var/cache/sitrep-ci), keyed by everything that goes into it, so a second run only imports.
# Nothing machine-specific is written into the repository: mirror, certificates and pip configuration
# are discovered here at run time.
set -Eeuo pipefail

tag=${1:?usage: make-base-image.sh TAG}
docker=${DOCKER:-docker}
suite=${SITREP_BASE_SUITE:-bookworm}
cache=${SITREP_CI_CACHE:-/var/cache/sitrep-ci}
packages=python3,python3-venv,python3-pip,ca-certificates
machine_certs=/usr/local/share/ca-certificates
key_version=1 # bump to invalidate every cached root file system

log() { printf 'make-base-image: %s\n' "$*" >&2; }

[[ $(id -u) == 0 ]] || { log "needs root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null || { log "needs debootstrap (apt-get install debootstrap)"; exit 1; }

# The Debian mirror apt uses for $suite on this machine (deb822 .sources or one-line .list files);
# empty means debootstrap's default.
discover_mirror() {
    local f
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [[ -r $f ]] || continue
            awk -v suite="$suite" '
                BEGIN { RS = "" }
                {
                    uris = ""; suites = ""; types = ""
                    n = split($0, line, "\n")
                    for (i = 1; i <= n; i++) {
                        if (line[i] ~ /^URIs:/)   { uris = line[i]; sub(/^URIs:[ \t]*/, "", uris) }
                        if (line[i] ~ /^Suites:/) { suites = line[i]; sub(/^Suites:/, "", suites) }
                        if (line[i] ~ /^Types:/)  { types = line[i] }
                    }
                    if (types ~ /[ \t]deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]")) {
                        split(uris, u, /[ \t]+/); print u[1]; exit
                    }
                }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [[ -r $f ]] || continue
            awk -v suite="$suite" '
                $1 == "deb" {
                    i = 2
                    if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) { print $i; exit }
                }' "$f"
        done
    } | head -n 1
}

# apt's HTTP proxy, if one is configured, for debootstrap's downloads.
if [[ -z ${http_proxy:-} ]] && command -v apt-config >/dev/null; then
    proxy=$(apt-config shell p Acquire::http::Proxy | sed -n "s/^p='\(.*\)'$/\1/p")
    if [[ -n $proxy && $proxy != DIRECT ]]; then export http_proxy=$proxy; fi
fi

mirror=$(discover_mirror || true)

# Everything copied into the root file system, for the cache key and for the copy itself.
extra_files=()
if [[ -d $machine_certs ]]; then
    while IFS= read -r -d '' f; do extra_files+=("$f"); done \
        < <(find "$machine_certs" -type f -name '*.crt' -print0 | sort -z)
fi
[[ -f /etc/pip.conf ]] && extra_files+=(/etc/pip.conf)
if [[ -d /etc/xdg/pip ]]; then
    while IFS= read -r -d '' f; do extra_files+=("$f"); done \
        < <(find /etc/xdg/pip -type f -print0 | sort -z)
fi

key=$(
    {
        printf '%s\n' "$key_version" "$suite" "$packages" "$mirror"
        for f in "${extra_files[@]}"; do printf '%s\n' "$f"; cat "$f"; done
    } | sha256sum | cut -c1-16
)
tarball=$cache/rootfs-$suite-$key.tar

mkdir -p "$cache"
chmod 0700 "$cache"
exec 9>"$cache/.lock"
flock 9 # one builder at a time; a concurrent run waits, then finds the tarball made

if [[ -f $tarball ]]; then
    log "cached root file system $(basename "$tarball")"
else
    work=$(mktemp -d /tmp/sitrep-base.XXXXXX)
    cleanup_work() {
        # debootstrap mounts /proc and /sys in the target; never rm -rf through a mount.
        local m
        while read -r m; do umount -l "$m" 2>/dev/null || true; done \
            < <(awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
        rm -rf --one-file-system "$work"
    }
    trap cleanup_work EXIT
    root=$work/rootfs
    log "debootstrap $suite (minbase + $packages) from ${mirror:-the default mirror} ..."
    args=(--variant=minbase "--include=$packages" "$suite" "$root")
    [[ -n $mirror ]] && args+=("$mirror")
    if ! debootstrap "${args[@]}" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        log "debootstrap failed"
        exit 1
    fi

    # This machine's CA certificates and pip configuration, so that pip in the build reaches the
    # package index the way pip on this machine does.
    for f in "${extra_files[@]}"; do
        mkdir -p "$root$(dirname "$f")"
        cp -p "$f" "$root$f"
    done
    if ! chroot "$root" update-ca-certificates >"$work/ca.log" 2>&1; then
        cat "$work/ca.log" >&2
        log "update-ca-certificates failed in the root file system"
        exit 1
    fi

    # Slim: package caches and documentation are of no use in a base image.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log

    find "$cache" -maxdepth 1 -name "rootfs-$suite-*.tar" -delete # older keys
    tar --numeric-owner -C "$root" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    log "cached $(basename "$tarball") ($(du -m "$tarball" | cut -f1) MB)"
fi

"$docker" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$tarball" "$tag" >/dev/null
log "imported $tag"
