"""Build the SecretumVault native core.

``build_ext`` first runs CMake (CMakeLists.txt), which builds the vendored
liboqs submodule or locates an installed liboqs, then compiles the Cython
extension ``secretumvault.pqc.backends._oqs`` against it. Without liboqs the package still
installs and runs on the pure "openssl" backend; the build says so.
``SECRETUMVAULT_REQUIRE_NATIVE=1`` turns a missing liboqs into a build error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
REQUIRE_NATIVE = os.environ.get("SECRETUMVAULT_REQUIRE_NATIVE", "") not in ("", "0")


def _warn(message: str) -> None:
    print(f"\n*** SecretumVault: {message}\n", file=sys.stderr, flush=True)


def _cmake() -> str | None:
    found = shutil.which("cmake")
    if found:
        return found
    try:  # the "cmake" build requirement installs a module with the binary
        import cmake

        return str(Path(cmake.CMAKE_BIN_DIR) / "cmake")
    except ImportError:
        return None


def locate_liboqs(build_dir: Path) -> dict[str, str] | None:
    """Run CMakeLists.txt and return ORIGIN/INCLUDE_DIR/LIBRARY, or None when there is no liboqs."""
    cmake = _cmake()
    if cmake is None:
        _warn("cmake not found; cannot build or locate liboqs")
        return None
    build_dir.mkdir(parents=True, exist_ok=True)
    configure = [cmake, "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    subprocess.run(configure, check=True)
    env = _read_env(build_dir)
    if env.get("ORIGIN") == "none":
        return None
    if env["ORIGIN"] == "vendored":
        jobs = str(os.cpu_count() or 2)
        build = [cmake, "--build", str(build_dir), "--config", "Release", "--parallel", jobs]
        subprocess.run(build, check=True)
        subprocess.run(configure, check=True)  # now the library exists: probe it for mldsa-native
        env = _read_env(build_dir)
    return env


def _read_env(build_dir: Path) -> dict[str, str]:
    text = (build_dir / "liboqs.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


class BuildNative(build_ext):
    """build_ext that prepares liboqs with CMake before compiling the extension."""

    def run(self) -> None:
        liboqs = locate_liboqs(Path(self.build_temp) / "cmake")
        if liboqs is None:
            missing = (
                "liboqs not found (no populated vendor/liboqs, no installed liboqs via CMake, "
                "pkg-config or LIBOQS_ROOT)"
            )
            if REQUIRE_NATIVE:  # the message must say the build stops, not that it goes on without
                raise SystemExit(
                    f"SECRETUMVAULT_REQUIRE_NATIVE is set, so the build fails: {missing}. "
                    "Populate vendor/liboqs (git submodule update --init) or install liboqs, "
                    "or unset SECRETUMVAULT_REQUIRE_NATIVE to build with the 'openssl' backend only."
                )
            _warn(
                f"{missing}. Building WITHOUT the native 'oqs' backend; "
                "SecretumVault will run on the 'openssl' backend (pyca/cryptography)."
            )
            self.extensions = []
            return
        self._configure(liboqs)
        super().run()

    def _configure(self, liboqs: dict[str, str]) -> None:
        from Cython.Build import cythonize

        library = liboqs["LIBRARY"]
        for ext in self.extensions:
            ext.include_dirs += [liboqs["INCLUDE_DIR"], str(ROOT / "csrc")]
            ext.define_macros.append(("SV_LIBOQS_ORIGIN", f'"{liboqs["ORIGIN"]}"'))
            if liboqs.get("MLDSA_NATIVE") == "1":  # see CMakeLists.txt, sv_probe_mldsa_native
                ext.define_macros.append(("SV_HAVE_MLDSA_NATIVE", "1"))
            if liboqs.get("SLHDSA_C") == "1":  # see CMakeLists.txt, sv_probe_slhdsa_c
                ext.define_macros.append(("SV_HAVE_SLHDSA_C", "1"))
            if library.endswith((".a", ".lib")):
                ext.extra_objects.append(library)  # linked in: the wheel needs nothing installed
            else:
                libdir = str(Path(library).parent)
                ext.library_dirs.append(libdir)
                ext.runtime_library_dirs.append(libdir)
                ext.libraries.append("oqs")
            # cythonize returns plain distutils Extensions; keep setuptools' objects, take the .c sources.
            ext.sources = cythonize(
                [ext], compiler_directives={"language_level": "3", "embedsignature": True}, quiet=True
            )[0].sources
        mldsa = "with" if liboqs.get("MLDSA_NATIVE") == "1" else "WITHOUT"
        slhdsa = "with" if liboqs.get("SLHDSA_C") == "1" else "WITHOUT"
        print(
            f"SecretumVault: native core links {liboqs['ORIGIN']} liboqs: {library} "
            f"({mldsa} mldsa-native's entry points, {slhdsa} slhdsa-c's)",
            flush=True,
        )


native_core = Extension(
    "secretumvault.pqc.backends._oqs",
    sources=[
        "secretumvault/pqc/backends/_oqs.pyx",
        "csrc/sv_glue.c",
        "csrc/sv_mldsa.c",
        "csrc/sv_slhdsa.c",
        "csrc/sv_floor.c",
        "csrc/sv_random.c",
        "csrc/sv_base64.c",
    ],
    extra_compile_args=["-O2", "-fvisibility=hidden"] if os.name != "nt" else [],
)

setup(ext_modules=[native_core], cmdclass={"build_ext": BuildNative})
