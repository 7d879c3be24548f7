#!/bin/sh
# coverage.sh [--corpus-only] [BUILDDIR]
#
# Line and branch coverage of reference/ and harness/ by the unit tests
# (meson suite 'unit') and the committed fuzz corpora and crash inputs
# (suite 'fuzz': the replay build of every fuzz target), with clang's
# source-based coverage (llvm-profdata + llvm-cov). --corpus-only counts
# the fuzz corpora and crash inputs alone (no unit tests). Writes into
# BUILDDIR/coverage/ (BUILDDIR/coverage-corpus/ with --corpus-only; default
# BUILDDIR build-cov):
#   summary.txt   per-file table (regions, functions, lines, branches)
#   html/         annotated sources, index.html
# and prints two TOTAL lines, line and branch coverage in percent: for
# reference/ + harness/, and for libwsref alone (reference/src).
# A failing test still counts for coverage (the script says so and goes on).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
suites="--suite unit --suite fuzz"
out=coverage
if [ "${1:-}" = --corpus-only ]; then
	suites="--suite fuzz"
	out=coverage-corpus
	shift
fi
bd=${1:-build-cov}
for t in clang llvm-profdata llvm-cov; do
	command -v "$t" >/dev/null || { echo "coverage.sh: $t missing (apt-get install clang llvm)" >&2; exit 2; }
done

if [ ! -f "$bd/build.ninja" ]; then
	CC=clang meson setup "$bd" -Dbuildtype=debug -Dfuzzing_engine=none \
		-Dc_args='-fprofile-instr-generate -fcoverage-mapping' \
		-Dc_link_args=-fprofile-instr-generate >/dev/null
fi
ninja -C "$bd" >/dev/null

prof=$bd/$out/profraw
rm -rf "$bd/$out"
mkdir -p "$prof"
status=0
LLVM_PROFILE_FILE="$root/$prof/%p-%m.profraw" \
	meson test -C "$bd" $suites --no-rebuild >"$bd/$out/tests.log" 2>&1 ||
	status=$?
[ "$status" -eq 0 ] || echo "coverage.sh: some tests failed (see $bd/$out/tests.log); counting what ran" >&2

llvm-profdata merge -sparse "$prof"/*.profraw -o "$bd/$out/all.profdata"

# Every instrumented binary (also wsconform, so harness files no test runs count as 0%).
set --
for f in $(find "$bd/tests" "$bd/fuzz" "$bd/reference" "$bd/harness" -type f \( -perm -u+x -o -name '*.so*' \) \
	! -name '*.p' 2>/dev/null | sort); do
	case $f in *.p/*) continue ;; esac
	file "$f" 2>/dev/null | grep -q ELF || continue
	if [ $# -eq 0 ]; then set -- "$f"; else set -- "$@" -object "$f"; fi
done
[ $# -gt 0 ] || { echo "coverage.sh: no binaries found in $bd" >&2; exit 1; }

ignore='(^|/)(tests|fuzz|reports|subprojects)/|^/usr/|catalog_data'
llvm-cov report "$@" -instr-profile="$bd/$out/all.profdata" \
	-ignore-filename-regex="$ignore" >"$bd/$out/summary.txt"
llvm-cov show "$@" -instr-profile="$bd/$out/all.profdata" \
	-ignore-filename-regex="$ignore" -format=html -show-branches=count \
	-output-dir="$bd/$out/html" >/dev/null

# TOTAL columns: Regions Missed Cover Functions Missed Executed Lines Missed Cover Branches Missed Cover
awk '/^TOTAL/ { printf "coverage (reference/ + harness/): lines %s (%d of %d), branches %s (%d of %d), functions %s\n", $10, $8 - $9, $8, $13, $11 - $12, $11, $7 }' \
	"$bd/$out/summary.txt"
# libwsref alone: the reference/src rows of the same table.
awk '$1 ~ /(^|\/)reference\/src\// { l += $8; lm += $9; b += $11; bm += $12 }
	END { if (l) printf "coverage (reference/src): lines %.2f%% (%d of %d), branches %.2f%% (%d of %d)\n", 100 * (l - lm) / l, l - lm, l, b ? 100 * (b - bm) / b : 0, b - bm, b }' \
	"$bd/$out/summary.txt"
echo "per file: $bd/$out/summary.txt; HTML: $bd/$out/html/index.html"
