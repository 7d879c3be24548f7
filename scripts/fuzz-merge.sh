#!/bin/sh
# fuzz-merge.sh [--fuzz-build DIR] TARGET...
#
# Folds what a campaign found back into the committed corpus: for each
# TARGET, libFuzzer's -merge=1 keeps the smallest set of inputs from
# fuzz/corpus/fuzz_TARGET/ and the campaign's corpus (DIR/corpus/fuzz_TARGET/,
# written by scripts/fuzz.sh; default DIR build-fuzz-libfuzzer) that covers
# every feature the union covers, and fuzz/corpus/fuzz_TARGET/ is replaced by
# that set, each file named by its SHA-256. Extra campaign directories (other
# machines' corpora) can be listed in FUZZ_MERGE_EXTRA, space-separated; each
# must contain fuzz_TARGET/ subdirectories.
set -eu

fbuild=build-fuzz-libfuzzer
if [ "${1:-}" = --fuzz-build ]; then
	[ $# -ge 2 ] || { echo "usage: $0 [--fuzz-build DIR] TARGET..." >&2; exit 2; }
	fbuild=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [--fuzz-build DIR] TARGET..." >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for t in "$@"; do
	case $t in fuzz_*) ;; *) t=fuzz_$t ;; esac
	[ -f "fuzz/$t.c" ] || { echo "no such target: fuzz/$t.c" >&2; exit 2; }
	[ -x "$fbuild/fuzz/$t" ] || {
		echo "$fbuild/fuzz/$t missing: run scripts/fuzz.sh first" >&2
		exit 2
	}
	srcs="fuzz/corpus/$t"
	for d in "$fbuild/corpus" ${FUZZ_MERGE_EXTRA:-}; do
		[ -d "$d/$t" ] && srcs="$srcs $d/$t"
	done
	new=$(mktemp -d)
	log=$new.log
	# shellcheck disable=SC2086
	if ! UBSAN_OPTIONS=halt_on_error=1 "$fbuild/fuzz/$t" -merge=1 -rss_limit_mb=2048 \
		-malloc_limit_mb=512 -max_len=65536 -timeout=5 "$new" $srcs >"$log" 2>&1; then
		echo "$t: merge failed (an input crashes? see $log)" >&2
		rm -rf "$new"
		exit 1
	fi
	before=$(find "fuzz/corpus/$t" -type f | wc -l)
	mkdir -p "fuzz/corpus/$t"
	find "fuzz/corpus/$t" -type f -delete
	for f in "$new"/*; do
		[ -f "$f" ] || continue
		cp "$f" "fuzz/corpus/$t/$(sha256sum "$f" | cut -d' ' -f1)"
	done
	rm -rf "$new" "$log"
	echo "$t: $before -> $(find "fuzz/corpus/$t" -type f | wc -l) inputs"
done
