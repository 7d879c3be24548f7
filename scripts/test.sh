#!/usr/bin/env bash
# Install, build and run every test: the C unit tests (suite unit, plus fuzz
# replay when present) in a release build and again under ASan+UBSan (clang),
# then the end-to-end pytest suite. The last line is pytest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test-deps

echo "== meson test (release, gcc, warnings are errors)"
meson configure build -Dwerror=true >/dev/null
ninja -C build >build/ninja.log 2>&1 || { cat build/ninja.log; exit 1; }
meson test -C build --print-errorlogs

echo "== meson test (ASan+UBSan, clang, warnings are errors)"
if [ ! -f build-asan/build.ninja ]; then
	CC=clang meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		--buildtype=debugoptimized -Dwerror=true >/dev/null
fi
ninja -C build-asan >build-asan/ninja.log 2>&1 || { cat build-asan/ninja.log; exit 1; }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

echo "== pytest (tests/e2e)"
export WSCONFORM_BUILD="$PWD/build"
# pytest comes from apt and runs under /usr/bin/python3 (not a pyenv python).
/usr/bin/python3 -m pytest tests/e2e -q -p no:cacheprovider
