#!/usr/bin/env bash
# run.sh -- differential test: the zones in zones/ served by NSD and by meridiand, every query of
# queries.txt sent to both with dig, the answers normalized and compared.
#
# usage: tests/differential/run.sh [--self-check]
#   BUILD_DIR (default: build) holds meridiand and tests/freeport; QUERIES (default: queries.txt next
#   to this script) the query list. --self-check serves the zones from
#   two NSD instances instead, to check the harness itself. SHOW=1 prints every normalized answer.
#
# Compared per query: rcode; the aa and tc flags; EDNS (present or not, version, DO); the question
# (case kept); the answer, authority and additional sections as sorted lines with names lowercased
# (text inside quotes kept) and TTLs kept. A query line may end with "# differs(FIELD,...): reason"
# where the RFCs allow more than one answer: those fields are skipped and the output says so.
# Prints one ok / not ok line per query, then "N passed, N failed".
set -u
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MERIDIAND=${MERIDIAND:-$BUILD_DIR/meridiand}
FREEPORT=${FREEPORT:-$BUILD_DIR/tests/freeport}
SELF=0
[ "${1:-}" = --self-check ] && SELF=1

ZONES=(example.com child.example.com example.net)
IDENTITY=ns-diff
VERSION=diff-version

TMP_NAME=meridian-diff # read by lib.sh
. "$HERE/lib.sh"

# ---- servers ----------------------------------------------------------------------------------------

# start_nsd NAME PORT: NSD serving ZONES from this folder on 127.0.0.1:PORT; waits until it answers.
start_nsd()
{
	local name=$1 port=$2 d=$TMP/$1
	mkdir -p "$d"
	write_nsd_conf "$d" "$port" "$HERE/zones" "  identity: \"$IDENTITY\""$'\n'"  version: \"$VERSION\"" "${ZONES[@]}"
	nsd-checkconf "$d/nsd.conf" >"$d/checkconf.log" 2>&1 || bail "$name: nsd.conf is valid" "$d/checkconf.log"
	nsd -d -c "$d/nsd.conf" >>"$d/nsd.log" 2>&1 &
	PIDS+=($!)
	wait_soa "$name: nsd" "${PIDS[-1]}" "$port" "$d/nsd.log" example.com || exit 1
}

# start_meridian NAME PORT: meridiand serving ZONES on 127.0.0.1:PORT; waits for its "ready" line.
start_meridian()
{
	start_meridian_serving "$1" "$2" "$HERE/zones" "identity = \"$IDENTITY\""$'\n'"version = \"$VERSION\"" "${ZONES[@]}"
}

# ---- normalization ----------------------------------------------------------------------------------

# normalize: dig output on stdin -> "field: value" lines, sorted. Only the first reply is read.
normalize()
{
	awk "$AWK_DIG_TEXT"'
	BEGIN { sec = ""; replies = 0; rcode = "NONE (no reply)"; flags = ""; edns = "none" }
	/^;; ->>HEADER<<-/ {
		if (++replies > 1) exit
		rcode = $0; sub(/.*status: /, "", rcode); sub(/,.*/, "", rcode)
		next
	}
	/^;; flags:/ {
		f = $0; sub(/^;; flags:/, "", f); sub(/;.*/, "", f)
		n = split(f, w, " "); flags = ""
		for (i = 1; i <= n; i++) if (w[i] == "aa" || w[i] == "tc") flags = flags " " w[i]
		next
	}
	/^;; OPT PSEUDOSECTION:/ { sec = "opt"; next }
	/^;; QUESTION SECTION:/ { sec = "question"; next }
	/^;; ANSWER SECTION:/ { sec = "answer"; next }
	/^;; AUTHORITY SECTION:/ { sec = "authority"; next }
	/^;; ADDITIONAL SECTION:/ { sec = "additional"; next }
	/^$/ || /^;; / { sec = ""; next }
	sec == "opt" {
		if ($0 ~ /^; EDNS:/) { e = $0; sub(/^; EDNS: /, "", e); sub(/; udp:.*/, "", e); edns = squeeze(e) }
		next
	}
	sec == "question" { q = $0; sub(/^;/, "", q); print "question: " squeeze(q); next }
	sec != "" { print sec ": " lc(squeeze($0)) }
	END {
		print "rcode: " rcode
		print "flags:" (flags == "" ? " (none)" : flags)
		print "edns: " edns
	}' | sort
}

# ---- the run ----------------------------------------------------------------------------------------

command -v nsd >/dev/null || bail "nsd is installed (scripts/deps.sh installs it)"
command -v dig >/dev/null || bail "dig is installed (scripts/deps.sh installs it)"
[ -x "$FREEPORT" ] || bail "$FREEPORT exists (build it first: make)"

PORT_A=$("$FREEPORT") || bail "a free port for NSD"
start_nsd nsd "$PORT_A"
PORT_B=$("$FREEPORT") || bail "a free port for the second server"
while [ "$PORT_B" = "$PORT_A" ]; do PORT_B=$("$FREEPORT"); done
if [ "$SELF" = 1 ]; then
	B_NAME=nsd2
	start_nsd nsd2 "$PORT_B"
else
	B_NAME=meridian
	start_meridian meridian "$PORT_B"
fi
echo "# comparing NSD (port $PORT_A) with $B_NAME (port $PORT_B)"

ask()
{
	local port=$1
	shift
	dig @127.0.0.1 -p "$port" +norec +nocookie +nosplit +time=2 +tries=1 "$@" 2>&1
}

while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'' | '#'*) continue ;;
	esac
	query=${line%%#*}
	query=$(sed -E 's/[[:space:]]+$//' <<<"$query")
	skip=""
	reason=""
	if [[ $line == *'# differs('* ]]; then
		skip=${line#*# differs(}
		reason=${skip#*): }
		skip=${skip%%)*}
	fi
	read -ra args <<<"$query"
	# dig takes NAME TYPE positionally; "." must stay a name
	out_a=$(ask "$PORT_A" -q "${args[0]}" -t "${args[1]}" "${args[@]:2}" | normalize)
	out_b=$(ask "$PORT_B" -q "${args[0]}" -t "${args[1]}" "${args[@]:2}" | normalize)
	if [ -n "$skip" ]; then
		pattern="^(${skip//,/|})[:]"
		out_a=$(grep -vE "$pattern" <<<"$out_a")
		out_b=$(grep -vE "$pattern" <<<"$out_b")
	fi
	note=""
	[ -n "$skip" ] && note=" ($skip not compared: $reason)"
	if grep -q '^rcode: NONE' <<<"$out_a"; then
		not_ok "$query: NSD did not answer$note"
	elif [ "$out_a" = "$out_b" ]; then
		ok "$query$note"
		[ "${SHOW:-0}" = 1 ] && sed 's/^/#   /' <<<"$out_a"
	else
		not_ok "$query$note"
		diff -u --label nsd --label "$B_NAME" <(echo "$out_a") <(echo "$out_b") | tail -n +3 | sed 's/^/#   /'
	fi
done <"${QUERIES:-$HERE/queries.txt}"

for pid in "${PIDS[@]}"; do
	kill -0 "$pid" 2>/dev/null || not_ok "a server died during the run"
done
