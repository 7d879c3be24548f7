#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: builds every fuzz target of
# fuzz/ with the engine's $CC, $CFLAGS and $LIB_FUZZING_ENGINE into $OUT,
# each with its dictionary (<target>.dict) and seed corpus
# (<target>_seed_corpus.zip, from fuzz/corpus/<target>/ plus the regression
# inputs in fuzz/crashes/<target>/). Run from the repository root ($SRC/wsconform).
#
# The library and the harness core are compiled with $CFLAGS (the engine's
# coverage and sanitizer flags) through meson with fuzzing_engine=none, so
# meson links nothing of its own; the targets are linked here against
# $LIB_FUZZING_ENGINE. fuzz_wslay is built too when libwslay is installed
# (apt-get install libwslay-dev in the builder image).
: "${CC:=clang}" "${CFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}" "${OUT:=$PWD/out}"
: "${WORK:=$PWD/build-oss-fuzz}" "${CXX:=clang++}"
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
mkdir -p "$OUT"

# Static libraries only: meson's b_sanitize stays off, $CFLAGS carries it.
if [ ! -f "$WORK/build.ninja" ]; then
	CC="$CC" CFLAGS="$CFLAGS" meson setup "$WORK" -Dfuzzing_engine=none \
		-Dbuildtype=plain -Ddefault_library=static -Db_lundef=false >/dev/null
fi
ninja -C "$WORK" reference/libwsref.a harness/libwsc_core.a >/dev/null

inc="-I$src/reference/include -I$src/harness -I$src/fuzz -D_GNU_SOURCE -std=c11"
libs="$(pkg-config --libs openssl zlib 2>/dev/null || echo -lssl -lcrypto -lz) -lpthread"
wslay=
[ -f /usr/include/wslay/wslay.h ] && wslay=yes

for src_c in fuzz/fuzz_*.c; do
	name=$(basename "$src_c" .c)
	case $name in
	fuzz_wire_reader | fuzz_caselang) link="$WORK/harness/libwsc_core.a" ;;
	fuzz_wslay)
		[ -n "$wslay" ] || { echo "skipping $name (no libwslay)"; continue; }
		link="$WORK/reference/libwsref.a $WORK/harness/libwsc_core.a -lwslay" ;;
	*) link="$WORK/reference/libwsref.a" ;;
	esac
	$CC $CFLAGS $inc -c "$src_c" -o "$WORK/$name.o"
	# The engine library is C++ (libFuzzer): link with the C++ driver.
	$CXX $CFLAGS "$WORK/$name.o" $link $libs $LIB_FUZZING_ENGINE -o "$OUT/$name"
	[ -f "fuzz/dict/$name.dict" ] && cp "fuzz/dict/$name.dict" "$OUT/$name.dict"
	zipdir=$(mktemp -d)
	for d in "fuzz/corpus/$name" "fuzz/crashes/$name"; do
		[ -d "$d" ] && find "$d" -type f ! -name '.*' -exec cp {} "$zipdir/" \;
	done
	rm -f "$OUT/${name}_seed_corpus.zip"
	if [ -n "$(ls "$zipdir")" ]; then
		(cd "$zipdir" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
	fi
	rm -rf "$zipdir"
	echo "built $OUT/$name"
done
