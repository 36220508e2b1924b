# t-lb-cache: the record cache (lb/cache, lb/cache.log; spec/lb.md "The
# record cache") never hides the records' truth.  No IPVS needed: `lb ls`,
# `lb remove` and `lb delete` are store-only paths.  After each step, `lb ls
# --format json` (which reads the cache) must equal the same listing of a
# copy of the records alone (no cache files).  Writers and the cache
# rewriter are killed with SIGKILL at their rename/unlink by strace's fault
# injection (deterministic points), and at random moments in a loop.
has_cmd() { command -v "$1" >/dev/null; }
has_cmd strace || skip "strace not installed"
has_cmd python3 || skip "python3 not installed"
C=$BIN/circuit
LB=$CIRCUIT_STATE_DIR/lb
mkdir -p "$LB"
chmod 700 "$CIRCUIT_STATE_DIR" "$LB"
python3 - "$LB" <<'EOF'
import json, os, sys
d = sys.argv[1]
for i in range(200):
    t = [{"address": "10.201.%d.%d" % (j, i % 250 + 1), "port": 8080, "weight": j + 1,
          "method": "nat"} for j in range(4)]
    rec = {"name": "svc%03d" % i, "address": "10.100.%d.%d" % (i // 250, i % 250 + 1),
           "port": 80, "protocol": "tcp", "scheduler": "wrr", "persistent": 0,
           "created": 0, "targets": t}
    if i % 7 == 0:
        rec["check"] = {"type": "http", "path": "/healthz", "expect": 200,
                        "interval": 2000, "timeout": 1000, "rise": 2, "fall": 3}
        t[1]["state"] = "down"
        t[1]["error"] = "connect: Connection refused"
        t[1]["since"] = 1732540100
    p = "%s/svc%03d.json" % (d, i)
    with open(p, "w") as f:
        json.dump(rec, f)
    os.chmod(p, 0o600)
EOF

# truth: the listing of the records alone, from a copy without the cache.
truth() {
	local d
	d=$(mktemp -d /tmp/lb-cache-truth.XXXXXX)
	mkdir -m 700 "$d/lb"
	cp -p "$LB"/*.json "$d/lb/" 2>/dev/null || true
	CIRCUIT_STATE_DIR=$d "$C" lb ls --format json
	rm -rf "$d"
}
# same STEP: the cached listing equals the truth.
same() {
	local got want
	got=$("$C" lb ls --format json)
	want=$(truth)
	[ "$got" = "$want" ] || die "$1: lb ls differs from the records"
}
# killed_at SYSCALLS CMD...: run CMD, SIGKILLed on entering the first of
# SYSCALLS (the call is not made).
killed_at() {
	local sc=$1
	shift
	strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc":signal=SIGKILL "$@" >/dev/null 2>&1 || true
}

same "first listing (builds the cache)"
[ -s "$LB/cache" ] || die "no lb/cache after lb ls"
[ -e "$LB/cache.log" ] && die "journal left after a rewrite"
ok "lb ls wrote the cache and it lists the records"

# A writer killed at its record's rename: the name is journalled, the
# record unchanged.
killed_at rename,renameat,renameat2 "$C" lb remove svc010 10.201.1.11:8080
has '^svc010$' <"$LB/cache.log" || die "the killed writer journalled nothing"
same "writer killed before its rename"
# A writer that completes: journal then rename (no listing in between:
# every `same` rewrites the cache and drops the journal).
"$C" lb remove svc011 10.201.2.12:8080 >/dev/null 2>&1
has '^svc011$' <"$LB/cache.log" || die "lb remove journalled nothing"
# The reader rewriting the cache, killed at its rename: old cache, journal
# kept.
killed_at rename,renameat,renameat2 "$C" lb ls
has '^svc011$' <"$LB/cache.log" || die "journal lost by a rewrite killed at its rename"
# ... and killed after its rename, at the journal's unlink: new cache, old
# journal (names read again: still the truth).
killed_at unlink,unlinkat "$C" lb ls
has '^svc011$' <"$LB/cache.log" || die "journal lost by a rewrite killed at its unlink"
same "cache rewrites killed at rename and at unlink"
"$C" lb ls >/dev/null
[ -e "$LB/cache.log" ] && die "journal left after a full rewrite"
ok "writers and the rewrite killed at rename/unlink: lb ls equals the records"

# Hand edits the journal never saw: a record rewritten in place, one added,
# one removed; and a corrupted cache.
python3 - "$LB/svc020.json" <<'EOF'
import json, sys
p = sys.argv[1]
r = json.load(open(p))
r["targets"][0]["weight"] = 77
open(p, "r+").write(json.dumps(r))
EOF
cp -p "$LB/svc021.json" "$LB/extra.json"
sed -i 's/"svc021"/"extra"/; s/10\.100\.0\.22/10.99.9.9/' "$LB/extra.json"
rm -f "$LB/svc022.json"
same "hand edits"
got=$("$C" lb ls --format json)
has '"weight": *77' <<<"$got" || die "in-place edit not seen"
has '"extra"' <<<"$got" || die "hand-added record not seen"
printf 'X' | dd of="$LB/cache" bs=1 seek=100 conv=notrunc 2>/dev/null
same "corrupted cache"
printf 'garbage' >"$LB/cache"
same "garbage cache"
ok "hand edits and a corrupted cache: lb ls equals the records"

# Random kills: writers and readers SIGKILLed at any moment.
for i in $(seq 1 30); do
	n=$(printf 'svc%03d' $((30 + i)))
	case $((i % 3)) in
	0) "$C" lb delete "$n" >/dev/null 2>&1 & ;;
	1) "$C" lb remove "$n" "10.201.3.$((31 + i)):8080" >/dev/null 2>&1 & ;;
	2) "$C" lb ls >/dev/null 2>&1 & ;;
	esac
	pid=$!
	sleep "0.00$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	same "random kill $i"
done
ok "30 random SIGKILLs: lb ls equals the records after each"

# The last service deleted: no cache left behind.
for f in "$LB"/*.json; do
	n=${f##*/}
	"$C" lb delete "${n%.json}" >/dev/null 2>&1 || die "delete ${n%.json}"
done
[ -e "$LB/cache" ] && die "cache left after the last delete"
[ -e "$LB/cache.log" ] && die "journal left after the last delete"
ok "no cache after the last service is deleted"
