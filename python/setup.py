"""setup.py — builds the recite Python package: the extension module recite._recite (C, against
include/recite.h) linked with the in-tree static library build/librecite.a, so nothing has to be
installed. `make python` runs `setup.py build_ext --inplace`; `pip install python/` also works
once `make` has built the library. Environment: RECITE_LIB (the static library to link),
RECITE_INCLUDE (where recite.h is)."""
import os
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIB = os.environ.get("RECITE_LIB", os.path.join(ROOT, "build", "librecite.a"))
INCLUDE = os.environ.get("RECITE_INCLUDE", os.path.join(ROOT, "include"))
# libarchive, libxml2, poppler-glib and libgit2 are not linked: the library loads them when an
# archive, markup, a PDF or a repository is read (src/common/dl.c).
PKGS = ["libxxhash", "libutf8proc", "libzstd", "jansson", "sqlite3", "libsodium"]


def pkg_libs():
    try:
        out = subprocess.run(["pkg-config", "--libs"] + PKGS, check=True, capture_output=True,
                             text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = ["-lxxhash", "-lutf8proc", "-lzstd", "-ljansson", "-lsqlite3", "-lsodium"]
    return [f[2:] for f in out if f.startswith("-l")] + ["pthread", "m"]


setup(
    name="recite",
    version="0.1.0",
    description="Recitation checker: which spans of a text reproduce which protected work",
    packages=["recite"],
    package_data={"recite": ["py.typed", "*.pyi"]},
    ext_modules=[Extension(
        "recite._recite",
        sources=[os.path.join("src", "_recite.c"), os.path.join("src", "_recite_build.c")],
        include_dirs=[INCLUDE],
        extra_objects=[LIB],
        libraries=pkg_libs(),
        extra_compile_args=["-std=c17", "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers",
                            "-Wno-cast-function-type"],
        depends=[LIB, os.path.join(INCLUDE, "recite.h"), os.path.join("src", "_recite.h")],
    )],
)
