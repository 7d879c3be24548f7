#!/bin/sh
# fuzz.sh TARGET SECONDS [--engine libfuzzer|afl] [--jobs N]
#
# Builds one fuzz target (fuzz/fuzz_TARGET.c) with ASan+UBSan for the chosen
# engine, into build-fuzz-libfuzzer/ or build-fuzz-afl/, and runs a campaign
# of SECONDS seconds (FUZZ_BUILD_DIR overrides the build directory):
# libFuzzer with -fork=N, or AFL++ with one -M and N-1
# -S instances. Seeds come from fuzz/corpus/TARGET/ (left untouched); the
# growing corpus lives in the build directory. New crashes are copied to
# fuzz/crashes/TARGET/, named by their SHA-256, so that the replay build
# (meson test --suite fuzz) keeps them as regression inputs.
set -eu

usage() {
	echo "usage: $0 TARGET SECONDS [--engine libfuzzer|afl] [--jobs N]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
target=$1
secs=$2
shift 2
engine=libfuzzer
jobs=1
while [ $# -gt 0 ]; do
	case $1 in
	--engine) [ $# -ge 2 ] || usage; engine=$2; shift 2 ;;
	--jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
	*) usage ;;
	esac
done
case $target in fuzz_*) ;; *) target=fuzz_$target ;; esac
case $secs in '' | *[!0-9]*) usage ;; esac
case $jobs in '' | *[!0-9]* | 0) usage ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f "fuzz/$target.c" ] || { echo "no such target: fuzz/$target.c" >&2; exit 2; }
seeds=fuzz/corpus/$target
crashes=fuzz/crashes/$target
dict=fuzz/dict/$target.dict
mkdir -p "$seeds" "$crashes"
dictarg=
[ -f "$dict" ] && dictarg=yes

# Copy a crash input into fuzz/crashes/TARGET/<sha256>; print its name.
keep_crash() {
	h=$(sha256sum "$1" | cut -d' ' -f1)
	if [ ! -f "$crashes/$h" ]; then
		cp "$1" "$crashes/$h"
		echo "new crash: $crashes/$h"
	fi
}

case $engine in
libfuzzer)
	bd=${FUZZ_BUILD_DIR:-build-fuzz-libfuzzer}
	if [ ! -f "$bd/build.ninja" ]; then
		# fuzzer-no-link instruments the library for coverage feedback.
		CC=clang meson setup "$bd" -Dfuzzing_engine=libfuzzer \
			-Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fsanitize=fuzzer-no-link -Dbuildtype=debugoptimized >/dev/null
	fi
	ninja -C "$bd" "fuzz/$target" >/dev/null
	work=$bd/corpus/$target
	art=$bd/artifacts/$target
	mkdir -p "$work" "$art"
	set -- -max_total_time="$secs" -artifact_prefix="$art/" -print_final_stats=1 \
		-rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -timeout=5
	[ -n "$dictarg" ] && set -- "$@" -dict="$dict"
	[ "$jobs" -gt 1 ] && set -- "$@" -fork="$jobs"
	status=0
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$bd/fuzz/$target" "$@" "$work" "$seeds" ||
		status=$?
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -f "$f" ] && keep_crash "$f"
	done
	exit $status
	;;
afl)
	command -v afl-clang-fast >/dev/null || {
		echo "afl-clang-fast missing: apt-get install -y afl++" >&2
		exit 2
	}
	bd=${FUZZ_BUILD_DIR:-build-fuzz-afl}
	if [ ! -f "$bd/build.ninja" ]; then
		CC=afl-clang-fast meson setup "$bd" -Dfuzzing_engine=afl \
			-Db_sanitize=address,undefined -Db_lundef=false \
			-Dbuildtype=debugoptimized >/dev/null
	fi
	ninja -C "$bd" "fuzz/$target" >/dev/null
	out=$bd/afl-out/$target
	mkdir -p "$out"
	export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
	set -- -i "$seeds" -o "$out" -m none -V "$secs"
	[ -n "$dictarg" ] && set -- "$@" -x "$dict"
	pids=
	i=1
	while [ "$i" -lt "$jobs" ]; do
		afl-fuzz "$@" -S "s$i" -- "$bd/fuzz/$target" >"$out/s$i.log" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	status=0
	afl-fuzz "$@" -M main -- "$bd/fuzz/$target" >"$out/main.log" 2>&1 || status=$?
	for p in $pids; do wait "$p" || true; done
	tail -n 5 "$out/main.log"
	for f in "$out"/*/crashes/id:*; do
		[ -f "$f" ] && keep_crash "$f"
	done
	exit $status
	;;
*) usage ;;
esac
