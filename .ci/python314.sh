#!/usr/bin/env bash
# Make CPython 3.14 and free-threaded CPython 3.14t on a fresh Debian machine,
# from Debian's archive (python.org is out of reach here, and nothing comes
# from GitHub).
#
#   .ci/python314.sh [--prefix /opt] [--root /opt/py314-root] [--suite forky]
#                    [--mirror URL] [--jobs N] [--force] [--no-ft]
#
# - CPython 3.14: Debian's own python3.14, python3.14-venv and python3.14-dev
#   packages, in a minimal debootstrap root of Debian testing (--suite, default
#   forky). They need that root's newer glibc, so this interpreter runs inside
#   it: `chroot ROOT python3.14` (bind-mount what it should see, e.g. the checkout).
#   The root also gets build-essential and cmake, to build the extension there.
# - CPython 3.14t: built from Debian's python3.14 *source* package with
#   --disable-gil, on the host, into PREFIX/py314t (links the host's libraries,
#   runs without a chroot). The root is the authenticated way to the source:
#   debootstrap checks the suite's Release file against the host's keyring, apt
#   in the root the Sources index and the files' hashes; `apt-get source
#   --download-only python3.14` (newest of the suite and sid). Only the upstream
#   tarball (python3.14_*.orig.tar.xz) is built: Debian's patches adapt the /usr
#   layout (dist-packages, multiarch) that a /opt prefix does not have. No
#   PGO/LTO. Where the mirror does not serve the source files this step fails
#   and says so (--no-ft skips it).
# - Idempotent: whatever already works is kept (the root with its python3.14; a
#   3.14t that runs with ssl, sqlite3, venv, ensurepip and the GIL off), so CI
#   pays once and later runs only check. --force rebuilds 3.14t.
# - Mirror: --mirror, else the first Debian URI in /etc/apt/sources.list{,.d}.
#
# Needs root (debootstrap, chroot, apt-get).
set -euo pipefail

prefix=/opt
root=""
suite=forky
mirror=""
jobs=$(nproc 2>/dev/null || echo 2)
force=""
ft=1
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --root) root=$2; shift 2 ;;
        --suite) suite=$2; shift 2 ;;
        --mirror) mirror=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --force) force=1; shift ;;
        --no-ft) ft=""; shift ;;
        -h | --help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
        *) echo "python314: unknown argument $1" >&2; exit 2 ;;
    esac
done
root=${root:-$prefix/py314-root}

say() { echo "python314: $*"; }
die() { echo "python314: $*" >&2; exit 1; }

# -- already there? ------------------------------------------------------------------
works() {  # PYTHON WANT_GIL(True|False): the interpreter runs with what the tests and wheels need
    [ -x "$1" ] && "$1" -c "import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, venv, ensurepip, sys
assert sys.version_info[:2] == (3, 14), sys.version
assert sys._is_gil_enabled() is $2, 'GIL setting'" 2>/dev/null
}
root_works() {
    [ -x "$root/usr/bin/python3.14" ] && [ -x "$root/usr/bin/cmake" ] \
        && chroot "$root" python3.14 -c "import ssl, sqlite3, ctypes, venv, ensurepip, sysconfig, sys
assert sys._is_gil_enabled()
assert sysconfig.get_paths()['include']" 2>/dev/null
}
ft_python=$prefix/py314t/bin/python3.14t
if [ -z "$force" ] && root_works && { [ -z "$ft" ] || works "$ft_python" False; }; then
    say "already there: $(chroot "$root" python3.14 -V) in $root${ft:+, $ft_python ($("$ft_python" -VV | head -1))}"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and apt-get)"

# -- mirror ------------------------------------------------------------------------
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -1 | tr -d ' ' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
fi
mirror=${mirror%/}
say "mirror $mirror, suite $suite"

# -- host build tools --------------------------------------------------------------
host_packages=(debootstrap build-essential pkg-config xz-utils libssl-dev libffi-dev zlib1g-dev libbz2-dev
    liblzma-dev libsqlite3-dev libreadline-dev uuid-dev libexpat1-dev libgdbm-dev libncurses-dev)
missing=()
for p in "${host_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# -- the root and the source package -----------------------------------------------
if [ ! -x "$root/usr/bin/apt-get" ]; then
    say "debootstrap $suite into $root (a few minutes)"
    rm -rf "$root"
    # The "sid" script serves every testing suite, including ones newer than this debootstrap.
    debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" \
        /usr/share/debootstrap/scripts/sid >"/tmp/python314-debootstrap.log" 2>&1 \
        || { tail -20 /tmp/python314-debootstrap.log; die "debootstrap failed (log: /tmp/python314-debootstrap.log)"; }
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A mirror (or a snapshot of one) can be older than its Release file's Valid-Until allows,
# or this clock ahead of it; the signatures and hashes are still checked.
echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99python314"
if ! root_works; then
    say "installing Debian's python3.14 in $root"
    chroot "$root" apt-get update -qq
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3.14 python3.14-venv python3.14-dev build-essential cmake ninja-build pkg-config \
        ca-certificates libpq5 >/tmp/python314-root-apt.log 2>&1 \
        || { tail -20 /tmp/python314-root-apt.log; die "apt-get install in $root failed"; }
    root_works || die "python3.14 in $root does not run"
fi
say "CPython 3.14: $(chroot "$root" python3.14 -V) in $root (chroot $root python3.14)"
[ -n "$ft" ] || exit 0
if [ -z "$force" ] && works "$ft_python" False; then say "$ft_python already works"; exit 0; fi

# Sources from the suite and from unstable: apt takes the newest python3.14 of the two (a mirror's
# testing index can name files its pool no longer has).
{
    echo "deb-src $mirror $suite main"
    [ "$suite" = sid ] || [ "$suite" = unstable ] || echo "deb-src $mirror sid main"
} >"$root/etc/apt/sources.list.d/python314-src.list"
mkdir -p "$root/src"
orig=$(ls "$root"/src/python3.14_*.orig.tar.xz 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$orig" ] || [ -n "$force" ]; then
    say "apt-get source python3.14 (in the root)"
    chroot "$root" apt-get update -qq
    # As root apt cannot drop to _apt in /src; the hashes are checked either way.
    chroot "$root" sh -c 'cd /src && apt-get source --download-only -qq python3.14' 2>&1 | grep -v 'unsandboxed' || true
    orig=$(ls "$root"/src/python3.14_*.orig.tar.xz 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$orig" ] || die "the mirror did not serve python3.14's source package ($suite or sid): no 3.14t (--no-ft for 3.14 alone)"
fi
say "source $(basename "$orig")"

# -- build -------------------------------------------------------------------------
work=$(mktemp -d /tmp/python314.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar xJf "$orig" -C "$work"
src=$(ls -d "$work"/Python-3.14*/ | head -1)
[ -f "$src/configure" ] || die "$orig holds no CPython source tree"

build() {  # NAME PYTHON WANT_GIL CONFIGURE_ARGS...
    local name=$1 python=$2 want=$3 start=$SECONDS dir="$work/build-$1"
    shift 3
    if [ -z "$force" ] && works "$python" "$want"; then say "$python already works"; return; fi
    say "building $name into $prefix/$name (configure $*)"
    rm -rf "${prefix:?}/$name" && mkdir -p "$dir"
    (cd "$dir" && "$src/configure" --prefix="$prefix/$name" --with-ensurepip=install "$@" >configure.log 2>&1) \
        || { tail -30 "$dir/configure.log"; die "configure of $name failed"; }
    (cd "$dir" && make -j"$jobs" >make.log 2>&1 && make install >install.log 2>&1) \
        || { tail -40 "$dir/make.log"; tail -20 "$dir/install.log" 2>/dev/null; die "build of $name failed"; }
    works "$python" "$want" || { "$python" -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid'; die "$python lacks a module"; }
    say "$name built in $((SECONDS - start)) s: $("$python" -VV | head -1)"
}
build py314t "$ft_python" False --disable-gil
say "done: $ft_python"
