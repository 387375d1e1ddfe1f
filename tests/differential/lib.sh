# lib.sh -- the harness the differential tests share (sourced by run.sh and geo.sh): counters, a
# temporary folder, the servers' pids and stopping them at exit, and ok / not_ok / bail lines.
# The sourcing script sets TMP_NAME (the temporary folder's prefix) first and appends every server
# it starts to PIDS. At exit: "N passed, N failed", status 1 when anything failed.
# shellcheck shell=bash

# AWK_DIG_TEXT: awk functions for reading dig's text, put before an awk program ("$AWK_DIG_TEXT"'...'):
# lc(s) lowercases s outside quoted strings (TXT data keeps its case), squeeze(s) folds runs of blanks
# into one space and drops a trailing one.
AWK_DIG_TEXT='
	function lc(s,    out, i, c, q) {
		out = ""; q = 0
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\"" && (i == 1 || substr(s, i - 1, 1) != "\\")) q = !q
			out = out (q ? c : tolower(c))
		}
		return out
	}
	function squeeze(s) { gsub(/[ \t]+/, " ", s); sub(/ $/, "", s); return s }
'


PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/${TMP_NAME:-meridian-diff}.XXXXXX") || exit 1
PIDS=()

cleanup()
{
	local pid i
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
	echo "$PASSED passed, $FAILED failed"
	# A bare exit in an EXIT trap keeps the status from before the trap: say it.
	[ "$FAILED" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

ok()
{
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

# not_ok DESCRIPTION [LOG]: a failure, with the end of LOG when given.
not_ok()
{
	FAILED=$((FAILED + 1))
	echo "not ok - $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" | sed 's/^/#   /'
	return 0
}

# bail DESCRIPTION [LOG]: a failure that ends the test.
bail()
{
	not_ok "$@"
	exit 1
}

# write_nsd_conf DIR PORT ZONESDIR EXTRA ZONE...: DIR/nsd.conf for NSD on 127.0.0.1:PORT (one server
# process, files kept in DIR) serving each ZONE from ZONESDIR/ZONE.zone, its rate limiting off and
# minimal responses on (meridian never adds optional records; the option exists from NSD 4.1 on).
# EXTRA holds more "server:" lines ("  key: value", one per line), or nothing.
write_nsd_conf()
{
	local d=$1 port=$2 zonesdir=$3 extra=$4 zone
	shift 4
	{
		echo "server:"
		echo "  ip-address: 127.0.0.1@$port"
		echo "  port: $port"
		echo "  do-ip6: no"
		echo "  server-count: 1"
		echo '  username: ""'
		echo '  chroot: ""'
		echo "  zonesdir: \"$zonesdir\""
		echo "  pidfile: \"$d/nsd.pid\""
		echo '  database: ""'
		echo "  zonelistfile: \"$d/zone.list\""
		echo "  xfrdfile: \"$d/xfrd.state\""
		echo "  xfrdir: \"$d\""
		echo "  logfile: \"$d/nsd.log\""
		[ -n "$extra" ] && printf '%s\n' "$extra"
		echo "  verbosity: 1"
		echo "  rrl-ratelimit: 0"
		echo "  rrl-whitelist-ratelimit: 0"
		if nsd-checkconf -o minimal-responses /dev/null >/dev/null 2>&1 ||
			grep -q minimal-responses <<<"$(man nsd.conf 2>/dev/null)"; then
			echo "  minimal-responses: yes"
		fi
		echo "remote-control:"
		echo "  control-enable: no"
		for zone in "$@"; do
			echo "zone:"
			echo "  name: $zone"
			echo "  zonefile: $zone.zone"
		done
	} >"$d/nsd.conf"
}

# start_meridian_serving NAME PORT ZONESDIR EXTRA ZONE...: meridiand (MERIDIAND) in TMP/NAME on
# 127.0.0.1:PORT, one worker, serving each ZONE from ZONESDIR/ZONE.zone, with EXTRA's config lines
# (or nothing); waits for its "ready" line.
start_meridian_serving()
{
	local name=$1 port=$2 zonesdir=$3 extra=$4 d=$TMP/$1 zone sep=""
	shift 4
	mkdir -p "$d"
	[ -x "$MERIDIAND" ] || bail "$name: $MERIDIAND exists (build it first)"
	{
		echo "-- differential test config"
		echo "serial = 1"
		echo "listen = { \"127.0.0.1:$port\" }"
		echo "workers = 1"
		[ -n "$extra" ] && printf '%s\n' "$extra"
		printf 'zones = {'
		for zone in "$@"; do
			printf '%s { name = "%s", file = "%s" }' "$sep" "$zone" "$zonesdir/$zone.zone"
			sep=,
		done
		echo ' }'
	} >"$d/meridian.conf"
	"$MERIDIAND" -c "$d/meridian.conf" >"$d/meridiand.log" 2>&1 &
	PIDS+=($!)
	wait_ready "$name" "${PIDS[-1]}" "$d/meridiand.log"
}

# wait_ready NAME PID LOG: waits (10 s at most) for meridiand PID's "ready" line in LOG; bails when it
# exits first or never gets ready.
wait_ready()
{
	local name=$1 pid=$2 log=$3 i
	for ((i = 0; i < 200; i++)); do
		grep -qw ready "$log" && return 0
		kill -0 "$pid" 2>/dev/null || bail "$name: meridiand started" "$log"
		sleep 0.05
	done
	bail "$name: meridiand ready within 10 s" "$log"
}

# wait_soa NAME PID PORT LOG ZONE...: waits (10 s at most) until server PID answers every ZONE's SOA
# on 127.0.0.1:PORT; when it exits first or never answers, a not ok line (with LOG's end) and status 1.
wait_soa()
{
	local name=$1 pid=$2 port=$3 log=$4 i zone answered
	shift 4
	for ((i = 0; i < 200; i++)); do
		answered=1
		for zone in "$@"; do
			grep -q 'status: NOERROR' <<<"$(dig @127.0.0.1 -p "$port" +norec +time=1 +tries=1 "$zone" SOA 2>/dev/null)" ||
				{ answered=0; break; }
		done
		[ "$answered" = 1 ] && return 0
		kill -0 "$pid" 2>/dev/null || { not_ok "$name started" "$log"; return 1; }
		sleep 0.05
	done
	not_ok "$name answered within 10 s" "$log"
	return 1
}
