#!/bin/sh
# fuzz-seed.sh [--build DIR] [--fuzz-build DIR] [--max-len N]
#
# Regenerates the committed seed corpora fuzz/corpus/<target>/ from the case
# catalog:
#   1. runs the whole catalog against wsref-echo with --dump-wire, which
#      writes the bytes each case sends (its client frames) to <id>.bin;
#   2. converts them to each target's input format (the header bytes those
#      targets read first, frames cut out of the stream, text payloads for
#      fuzz_utf8) and cuts every case and template of cases/*.wsc out as a
#      fuzz_caselang seed;
#   3. merges the new seeds with the committed corpus through libFuzzer's
#      -merge=1 -use_counters=0 (only inputs that reach new edges stay, so
#      the committed set stays small) and names every file by its SHA-256.
# --build: the normal build (default build/); --fuzz-build: a libFuzzer build
# (default build-fuzz-libfuzzer/, set up as scripts/fuzz.sh does when
# missing). Seeds longer than --max-len (default 4096) bytes are cut.
set -eu

build=build
fbuild=build-fuzz-libfuzzer
maxlen=4096
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--fuzz-build) fbuild=$2; shift 2 ;;
	--max-len) maxlen=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--fuzz-build DIR] [--max-len N]" >&2; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" harness/wsconform reference/wsref-echo >/dev/null
if [ ! -f "$fbuild/build.ninja" ]; then
	CC=clang meson setup "$fbuild" -Dfuzzing_engine=libfuzzer \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$fbuild" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. The catalog's traffic (verdicts do not matter here).
"$build/harness/wsconform" server 'ws://127.0.0.1:{port}/' \
	--exec "$build/reference/wsref-echo --port {port}" \
	--dump-wire "$tmp/wire" --no-report -q >/dev/null 2>&1 || true
nwire=$(find "$tmp/wire" -name '*.bin' 2>/dev/null | wc -l)
[ "$nwire" -gt 0 ] || { echo "fuzz-seed: --dump-wire wrote nothing" >&2; exit 1; }

# 2. Convert.
python3 - "$tmp/wire" "$tmp/new" "$maxlen" cases <<'EOF'
import hashlib, os, re, sys

wire, out, maxlen, cases = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    data = data[:maxlen]
    name = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def frames(b):
    """Yield (fin, opcode, raw frame bytes, unmasked payload) of a frame stream."""
    i = 0
    while i + 2 <= len(b):
        b0, b1 = b[i], b[i + 1]
        n, h = b1 & 0x7F, 2
        if n == 126:
            if i + 4 > len(b): return
            n, h = int.from_bytes(b[i + 2:i + 4], "big"), 4
        elif n == 127:
            if i + 10 > len(b): return
            n, h = int.from_bytes(b[i + 2:i + 10], "big"), 10
        key = None
        if b1 & 0x80:
            key = b[i + h:i + h + 4]
            h += 4
        if i + h + n > len(b) or n > (1 << 24):
            return
        p = bytearray(b[i + h:i + h + n])
        if key and len(key) == 4:
            for k in range(len(p)):
                p[k] ^= key[k & 3]
        yield (b0 >> 7) & 1, b0 & 0x0F, b[i:i + h + n], bytes(p)
        i += h + n

for name in sorted(os.listdir(wire)):
    with open(os.path.join(wire, name), "rb") as f:
        b = f.read()
    if not b:
        continue
    # fuzz_wire_reader: byte 0 = peer is a client, no cap, whole / 7-byte pieces.
    put("fuzz_wire_reader", bytes([0x07 | (7 << 3)]) + b)
    # fuzz_conn_server: canned handshake, echo, no limits, no calls, 7-byte pieces.
    put("fuzz_conn_server", bytes([0x24, 0x00, 0x00, 0x01, 0x07]) + b)
    # fuzz_wslay: in 5-byte pieces.
    put("fuzz_wslay", bytes([5]) + b)
    text = None
    for k, (fin, op, raw, payload) in enumerate(frames(b)):
        if k < 4:  # fuzz_frame: [split][offset][mask 4][frame]
            put("fuzz_frame", bytes([3, 0, 0x37, 0xFA, 0x21, 0x3D]) + raw)
        if op == 1:
            text = bytearray(payload)
        elif op == 0 and text is not None:
            text += payload
        elif op == 8 and len(payload) > 2:
            put("fuzz_utf8", payload[2:])
        if op in (0, 1) and fin and text is not None:
            put("fuzz_utf8", bytes(text))
            text = None

# fuzz_caselang: byte 0 = profile (rfc), then one case or template block.
for fn in sorted(os.listdir(cases)):
    if not fn.endswith(".wsc"):
        continue
    lines = open(os.path.join(cases, fn), encoding="utf-8").read().split("\n")
    cats = [l for l in lines if re.match(r"\s*(@\w+\s+)*category\b", l)]
    block = None
    for l in lines:
        s = l.strip()
        if re.match(r"(@\w+\s+)*(case|template)\b", s):
            block = [l]
        elif block is not None:
            block.append(l)
            if s == "end":
                text = "\n".join(cats[:1] + block) + "\n"
                if block[0].strip().startswith("template"):
                    name = block[0].split()[1]
                    text += "".join(l + "\n" for l in lines
                                    if l.strip().startswith("expand"))[:400]
                put("fuzz_caselang", b"\x00" + text.encode())
                block = None
EOF

# 3. Merge into the committed corpora.
for dir in "$tmp"/new/*; do
	t=$(basename "$dir")
	bin=$fbuild/fuzz/$t
	[ -x "$bin" ] || { echo "fuzz-seed: $t not built in $fbuild, skipped" >&2; continue; }
	mkdir -p "$tmp/merged/$t" "fuzz/corpus/$t"
	"$bin" -merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=10 "$tmp/merged/$t" "fuzz/corpus/$t" "$dir" \
		>"$tmp/merge-$t.log" 2>&1 || { tail -n 20 "$tmp/merge-$t.log" >&2; exit 1; }
	rm -rf "fuzz/corpus/$t"
	mkdir -p "fuzz/corpus/$t"
	for f in "$tmp/merged/$t"/*; do
		[ -f "$f" ] || continue
		cp "$f" "fuzz/corpus/$t/$(sha256sum "$f" | cut -d' ' -f1)"
	done
	echo "$t: $(ls "fuzz/corpus/$t" | wc -l) files, $(du -sk "fuzz/corpus/$t" | cut -f1) KiB" \
		"(from $(ls "$dir" | wc -l) new seeds)"
done
echo "total: $(find fuzz/corpus -type f | wc -l) files, $(du -sk fuzz/corpus | cut -f1) KiB"
