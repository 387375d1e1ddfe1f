#!/usr/bin/env bash
# bench.sh -- benchmark meridian beside NSD, Knot and gdnsd (run by `make bench`).
#
#   scripts/bench.sh [BUILD_DIR]        (default: build)
#
# Follows shared/BENCHMARKING.md. Every server gets the same generated zone and query mix, one
# worker thread and a free loopback port of its own:
#   1. saturated throughput: dnsperf -c 1 -T 1 -l SECONDS, ROUNDS rounds taken in turn, median qps;
#   2. CPU per query at a fixed offered load (dnsperf -Q QPS): the server's user+system time, all
#      threads and processes, from /proc/PID/stat, divided by the queries answered; the ratio of the
#      medians, and beside it the median of the per-round ratios (each round runs the servers one
#      after the other, so a change in the machine's load between rounds moves both alike);
#   3. loading a zone of BIG_RECORDS records: time from start to the first correct answer for the
#      last record of the file, and memory at that moment (meridian, Knot, NSD); then (3t) one AXFR
#      of it to bench/axfr.py: seconds, and the server's CPU seconds for it;
#   4. geo routing (issue 3): meridian serving dynamic A records answered per region, every query
#      carrying one ECS option (dnsperf -E), beside meridian's own static A answers (no ECS, plain
#      config) and gdnsd's plugin_geoip on the same MaxMind database: saturated qps of the three,
#      interleaved, and CPU per query at the fixed load. Both geo servers must give the same answers
#      (dig +subnet) before anything is measured.
#   5. failover (issue 4): a forced health transition with 1,000 dynamic records x 10 regions, from
#      the control request to the first answer served without the member (bench/failover.py).
#   6. the same with Lua policies: 1,000 records x 20 regions, every record's policy a Lua file.
#   7. figure 5 with every record guarded by an intent (issue 6): the run-time guard's cost per
#      publication, and a reload's cost with the guard's scenarios beside figure 5's plain reload.
# Environment: BENCH_SECONDS (5), BENCH_ROUNDS (5), BENCH_QPS (40000), BENCH_NAMES (10000 names in
# the zone), BENCH_QUERIES (100000 lines in the query file), BENCH_MIX (kinds of query and their
# weights, see bench/gen-queries.sh), BENCH_BIG (1; 0 skips figure 3 and 3t), BENCH_BIG_RECORDS (1000000),
# BENCH_LOAD_TIMEOUT (300 s), BENCH_SERVERS ("meridian nsd knot gdnsd"; "none" leaves figures 1
# and 2 out, and figure 3 then loads meridian, Knot and NSD), BENCH_KEEP (0; 1 keeps the temporary
# directory with configs, zones, logs and dnsperf outputs), and for figure 4:
# BENCH_GEO (1; 0 skips it), BENCH_GEO_NAMES (300 dynamic names), BENCH_GEO_NETS (100000 networks in
# the synthetic database scripts/gen-geo-db.pl writes), BENCH_GEO_LAYOUT (dense or sparse),
# BENCH_GEO_DB (a MaxMind-format file to use instead of generating one), BENCH_GEO_CLIENT (the ECS
# subnet of every query, e.g. 1.2.3.0/24; default: the first /24 of region europe in the database).
# BENCH_FAILOVER (1; 0 skips figure 5). BENCH_INSTR (1; 0 leaves out figures 2i and 4i: each server of
# figures 2 and 4 run again under valgrind --tool=callgrind, its user-space instructions per query).
# With the defaults a run takes about 7 minutes on 2 CPUs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-build}
MERIDIAND=$BUILD/meridiand
[ -d "$BUILD" ] && MERIDIAND=$(cd "$BUILD" && pwd)/meridiand
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-5}
QPS=${BENCH_QPS:-40000}
NAMES=${BENCH_NAMES:-10000}
NQUERIES=${BENCH_QUERIES:-100000}
BIG=${BENCH_BIG:-1}
BIG_RECORDS=${BENCH_BIG_RECORDS:-1000000}
SERVERS=${BENCH_SERVERS:-meridian nsd knot gdnsd}
MIX=${BENCH_MIX:-a=45,aaaa=15,cname=10,wild=5,nx=10,nodata=10,ref=5}
KEEP=${BENCH_KEEP:-0}
GEO=${BENCH_GEO:-1}
GEO_NAMES=${BENCH_GEO_NAMES:-300}
GEO_NETS=${BENCH_GEO_NETS:-100000}
GEO_LAYOUT=${BENCH_GEO_LAYOUT:-dense}
GEO_CLIENT=${BENCH_GEO_CLIENT:-}
GEO_DB=${BENCH_GEO_DB:-}
# The office region of the geo deployment: nets that override the database (RFC 2544, RFC 3849).
OFFICE4=198.18.0.0/15
OFFICE6=2001:db8:42::/48
ADDR=127.0.0.1
ZONE=example.com
BIG_ZONE=big.example
START_TIMEOUT=30
LOAD_TIMEOUT=${BENCH_LOAD_TIMEOUT:-300}
CLK_TCK=$(getconf CLK_TCK)
INSTR_ON=${BENCH_INSTR:-1}
INSTR_QPS=1000
INSTR_QUERIES=5000
declare -A INSTR
WRAP=()
if [ "$INSTR_ON" = 1 ] && ! command -v callgrind_control >/dev/null; then
	echo "bench.sh: no valgrind (scripts/deps.sh bench installs it): instruction counts left out" >&2
	INSTR_ON=0
fi

for v in SECS ROUNDS QPS NAMES NQUERIES BIG_RECORDS GEO_NAMES GEO_NETS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: $v must be a positive integer" >&2; exit 2; }
done
case $GEO_LAYOUT in dense | sparse) ;; *) echo "bench.sh: BENCH_GEO_LAYOUT must be dense or sparse" >&2; exit 2 ;; esac
[ -z "$GEO_DB" ] || [ -r "$GEO_DB" ] || { echo "bench.sh: BENCH_GEO_DB $GEO_DB: not readable" >&2; exit 2; }
[ -z "$GEO_DB" ] || GEO_DB=$(cd "$(dirname "$GEO_DB")" && pwd)/$(basename "$GEO_DB")
for tool in dnsperf dig ss; do
	command -v "$tool" >/dev/null || { echo "bench.sh: needs dnsperf, dig and ss (run scripts/deps.sh)" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/meridian-bench.XXXXXX")
declare -A PID PORT
STARTED=()      # every server pid we launched, for the exit trap
CLIENT=""       # the dnsperf running now
USED_PORTS=" "

note() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- processes ----

# The pid and all its descendants (NSD runs a main process, xfrd and server children).
tree_pids() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
		{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); parent[$1] = f[2] }
		END {
			if (!(root in parent)) exit
			want[root] = 1; print root
			for (more = 1; more;) {
				more = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) { want[p] = 1; print p; more = 1 }
			}
		}'
}

# CPU ticks used so far by a server: utime+stime+cutime+cstime (fields 14-17, counted from the
# state after the closing parenthesis of comm, which may itself hold spaces) of every process.
# Printed as "ALL USER", USER being utime+cutime alone.
cpu_ticks() {
	local p
	for p in $(tree_pids "$1"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); t += f[12] + f[13] + f[14] + f[15]; u += f[12] + f[14] }
		END { printf "%d %d\n", t, u }'
}

# "RSS_KiB PSS_KiB" summed over the server's processes. RSS counts a page shared by a forked
# child (NSD's servers share the parent's zone copy-on-write) once per process; PSS divides it.
mem_kib() {
	local p rss=0 pss=0 r s
	for p in $(tree_pids "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		s=$(awk '/^Pss:/ { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
		rss=$((rss + ${r:-0}))
		pss=$((pss + ${s:-${r:-0}}))
	done
	echo "$rss $pss"
}

alive() { [ -e "/proc/$1" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

stop_pid() {
	local pid=$1 tree i p
	alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
	tree=$(tree_pids "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
	for p in $tree; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	set +e
	[ -n "$CLIENT" ] && kill -TERM "$CLIENT" 2>/dev/null && wait "$CLIENT" 2>/dev/null
	for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
	if [ "$KEEP" = 1 ]; then note "bench.sh: kept $TMP"; else rm -rf "$TMP"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- ports -----

# A port below the kernel's ephemeral range (so no client socket can take it between our check
# and the server's bind), with nothing bound on it in UDP or TCP, not handed out before.
free_port() {
	local lo hi p i
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	if [ "$lo" -gt 11024 ]; then hi=$((lo - 1)) lo=10000; else lo=$((hi + 1)) hi=65535; fi
	[ $((hi - lo)) -ge 100 ] || { lo=1024 hi=65535; }
	for ((i = 0; i < 200; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		[[ $USED_PORTS == *" $p "* ]] && continue
		[ -z "$(ss -Hlnu "sport = :$p")$(ss -Hlnt "sport = :$p")" ] || continue
		USED_PORTS+="$p "
		echo "$p"
		return 0
	done
	echo "bench.sh: no free port found" >&2
	return 1
}

# ----------------------------------------------------------------- servers -----

have_server() {
	case $1 in
	meridian | meridian-geo) [ -x "$MERIDIAND" ] ;;
	nsd) command -v nsd >/dev/null ;;
	knot) command -v knotd >/dev/null ;;
	gdnsd | gdnsd-geo) command -v gdnsd >/dev/null ;;
	*) return 1 ;;
	esac
}

# render TEMPLATE OUT DIR ZONE ZONEFILE PORT [OPTIONS] -- the geo templates also take the
# database (GEO_DB_FILE), the number of dynamic names and the office nets from the globals.
render() {
	sed -e "s|@ADDR@|$ADDR|g" -e "s|@PORT@|$6|g" -e "s|@DIR@|$3|g" -e "s|@ZONE@|$4|g" \
		-e "s|@ZONEFILE@|$5|g" -e "s|@GEODB@|${GEO_DB_FILE-}|g" -e "s|@GEO_NAMES@|$GEO_NAMES|g" \
		-e "s|@OFFICE4@|$OFFICE4|g" -e "s|@OFFICE6@|$OFFICE6|g" "$HERE/bench/$1" | awk -v opts="${7-}" '
		$0 == "@OPTIONS@" { if (opts != "") print opts; next } { print }' >"$2"
}

# Sets NSD_OPTIONS to the lines this NSD accepts (each checked with nsd-checkconf): minimal
# responses, and rate limiting (when built in) switched off, as BENCHMARKING.md asks.
NSD_OPTIONS="" NSD_PROBED=0
nsd_probe() {
	[ $NSD_PROBED = 0 ] || return 0
	local dir=$TMP/nsd-probe opt ok=""
	mkdir -p "$dir"
	# shellcheck disable=SC2016 # a literal $ORIGIN
	printf '$ORIGIN probe.\n@ 3600 IN SOA a. b. 1 1 1 1 1\n@ 3600 IN NS a.\n' >"$dir/z"
	local opts=("minimal-responses: yes")
	# RRL is built in unless configured with --disable-ratelimit (its configure line is in nsd -v)
	if grep -q -- --disable-ratelimit <<<"$(nsd -v 2>&1)"; then
		note "nsd: built without rate limiting; nothing to switch off"
	else
		opts+=("rrl-ratelimit: 0" "rrl-whitelist-ratelimit: 0")
	fi
	for opt in "${opts[@]}"; do
		render nsd.conf.in "$dir/nsd.conf" "$dir" probe "$dir/z" 53 "$(printf '\t%s' "$opt")"
		if nsd-checkconf "$dir/nsd.conf" >/dev/null 2>&1; then
			ok+=$(printf '\t%s\n' "$opt")$'\n'
		else
			note "nsd: option '$opt' not supported by this build; left out"
		fi
	done
	NSD_OPTIONS=${ok%$'\n'} NSD_PROBED=1
}

# configure NAME DIR ZONE ZONEFILE PORT -- writes the server's config, sets CMD to its command line.
configure() {
	local name=$1 dir=$2 zone=$3 zfile=$4 port=$5
	case $name in
	meridian)
		render meridian.conf.in "$dir/meridian.conf" "$dir" "$zone" "$zfile" "$port"
		CMD=("$MERIDIAND" -c "$dir/meridian.conf") ;;
	nsd)
		nsd_probe
		render nsd.conf.in "$dir/nsd.conf" "$dir" "$zone" "$zfile" "$port" "$NSD_OPTIONS"
		CMD=(nsd -d -c "$dir/nsd.conf") ;;
	knot)
		render knot.conf.in "$dir/knot.conf" "$dir" "$zone" "$zfile" "$port"
		CMD=(knotd -c "$dir/knot.conf") ;;
	gdnsd | gdnsd-geo)
		# gdnsd reads DIR/config and every file in DIR/zones, named after its zone.
		mkdir -p "$dir/zones" "$dir/run" "$dir/state"
		render "$name.config.in" "$dir/config" "$dir" "$zone" "$zfile" "$port"
		cp "$zfile" "$dir/zones/$zone"
		CMD=(gdnsd -c "$dir" start) ;;
	meridian-geo)
		render meridian-geo.conf.in "$dir/meridian.conf" "$dir" "$zone" "$zfile" "$port"
		CMD=("$MERIDIAND" -c "$dir/meridian.conf") ;;
	esac
}

# dig NAME TYPE at a server: "+short" answer, empty when there is none or no reply.
ask() { dig @"$ADDR" -p "$1" +norec +noedns +nocookie +time=1 +tries=1 +short "$2" "$3" 2>/dev/null || true; }

# start LABEL NAME ZONE ZONEFILE PROBE_NAME PROBE_TYPE PROBE_EXPECT TIMEOUT -- start a server
# and wait until it answers the probe correctly. Tries another port when the server could not
# bind (the port may have been taken since we checked it).
start() {
	local label=$1 name=$2 zone=$3 zfile=$4 qname=$5 qtype=$6 expect=$7 timeout=$8
	local dir=$TMP/$label try port pid deadline
	for try in 1 2 3; do
		rm -rf "$dir"; mkdir -p "$dir"
		port=$(free_port) || return 1
		configure "$name" "$dir" "$zone" "$zfile" "$port"
		T0=$(date +%s%N)
		"${WRAP[@]}" "${CMD[@]}" >"$dir/log" 2>&1 &
		pid=$!
		STARTED+=("$pid")
		deadline=$(($(date +%s) + timeout))
		while alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do
			# a here-string: grep -q leaving early must not fail the pipeline (pipefail)
			if grep -qxF -- "$expect" <<<"$(ask "$port" "$qname" "$qtype")"; then
				T1=$(date +%s%N)
				PID[$label]=$pid PORT[$label]=$port
				return 0
			fi
			sleep 0.02
		done
		if alive "$pid"; then
			stop_pid "$pid"
			note "$name: no correct answer for $qname $qtype within ${timeout}s; log:"
			tail -n 5 "$dir/log" | sed 's/^/    /' >&2
			return 1
		fi
		wait "$pid" 2>/dev/null || true
		note "$name: exited at start-up (port $port); log:"
		tail -n 5 "$dir/log" | sed 's/^/    /' >&2
		grep -qi 'in use' "$dir/log" || return 1
		[ "$try" = 3 ] || note "$name: trying another port"
	done
	return 1
}

stop() {
	local label=$1
	[ -n "${PID[$label]-}" ] || return 0
	stop_pid "${PID[$label]}"
	unset "PID[$label]"
}

# ------------------------------------------------------------------ dnsperf ----

# What the run at a server LABEL sends: its query file (QFILE, default the mixed one) and extra
# dnsperf options (PERF_OPTS, e.g. -E for the ECS option).
declare -A QFILE PERF_OPTS

# perf LABEL OUT ARGS... -- run dnsperf for PERF_SECS (default SECS) at a server, output to OUT.
# In the background so that a signal reaches our trap at once, and the trap can stop it.
perf() {
	local label=$1 out=$2
	shift 2
	# shellcheck disable=SC2086 # PERF_OPTS holds whole dnsperf options without spaces
	dnsperf -s "$ADDR" -p "${PORT[$label]}" -d "${QFILE[$label]-$TMP/queries}" -c 1 -T 1 -l "${PERF_SECS:-$SECS}" \
		${PERF_OPTS[$label]-} "$@" >"$out" 2>&1 &
	CLIENT=$!
	wait "$CLIENT" || true
	CLIENT=""
}

# "completed lost qps" from a dnsperf output; fails when dnsperf did not finish its run.
perf_result() {
	awk '/Queries completed:/ { c = $3 } /Queries lost:/ { l = $3 } /Queries per second:/ { q = $4 }
		END { if (c == "" || q == "") exit 1; printf "%d %d %.0f\n", c, l, q }' "$1"
}

# median "V1 V2 ..." -- "nan" for none
median() { tr ' ' '\n' <<<"$1" | awk NF | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# spread FORMAT "V1 V2 ..." -- "min..max" of the rounds, to show how noisy a median is
spread() {
	tr ' ' '\n' <<<"$2" | awk -v f="$1" 'NF { if (n++ == 0 || $1 < lo) lo = $1; if (n == 1 || $1 > hi) hi = $1 }
		END { if (n == 0) print "-"; else printf f ".." f "\n", lo, hi }'
}

# ----------------------------------------------------------------- sanity ------

# The answer as a comparable text: rcode, AA and the three sections, each sorted.
answer_text() {
	dig @"$ADDR" -p "$1" +norec +noedns +nocookie +time=2 +tries=2 "$2" "$3" 2>/dev/null | awk '
		/->>HEADER<<-/ { sub(/.*status: /, ""); sub(/,.*/, ""); print "rcode " $0 }
		/^;; flags:/ { print "aa " ($0 ~ /flags:[^;]* aa[ ;]/ ? 1 : 0) }
		/^;; [A-Z]+ SECTION:/ { sec = $2; next }
		/^$/ { sec = "" }
		sec != "" && sec != "QUESTION" && !/^;/ { $1 = $1; print sec " " $0 }' | sort
}

sanity() {
	local ref=$1 label kind qname qtype bad want got
	shift
	for label in "$@"; do
		bad=0
		while read -r kind qname qtype; do
			want=$(answer_text "${PORT[$ref]}" "$qname" "$qtype")
			got=$(answer_text "${PORT[$label]}" "$qname" "$qtype")
			if [ "$want" != "$got" ]; then
				bad=$((bad + 1))
				note "  $label differs from $ref for $qname $qtype ($kind):"
				diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sed "s/^</    $ref:/; s/^>/    $label:/" >&2 || true
			fi
		done <"$TMP/samples"
		if [ $bad = 0 ]; then
			note "sanity: $label answers the $(wc -l <"$TMP/samples") sample queries exactly as $ref"
		else
			note "sanity: $label differs from $ref in $bad of $(wc -l <"$TMP/samples") sample queries"
		fi
	done
}

# ------------------------------------------------------------------ figures ----

running=()
declare -A QPS_R LOST LOST_Q FAILED SHORT CPU_R CPU_U LOAD MEM_RSS MEM_PSS XFR_SECS XFR_CPU XFR_MSGS
declare -A CPU_AT # "server round" -> that round's CPU us/query, for ratios paired by round

prepare() {
	T_START=$(date +%s)
	load_note "at start"
	note "bench: zone of $NAMES names and $NQUERIES queries in $TMP"
	"$HERE/gen-bench-zone.sh" bench "$ZONE" "$NAMES" >"$TMP/$ZONE.zone"
	"$HERE/bench/gen-queries.sh" -n "$NQUERIES" -m "$MIX" -s "$TMP/samples" "$TMP/$ZONE.zone" >"$TMP/queries"
	read -r PROBE_NAME PROBE_TYPE PROBE_EXPECT < <(awk '$1 == "h1" && $4 == "A" { print "h1.'"$ZONE"'.", "A", $5; exit }' "$TMP/$ZONE.zone")
}

start_all() {
	local s
	for s in $SERVERS; do
		case $s in meridian | nsd | knot | gdnsd) ;; none) continue ;; *) note "$s: unknown server; skipped"; continue ;; esac
		if ! have_server "$s"; then
			if [ "$s" = meridian ]; then note "meridian: $MERIDIAND not built; skipped"
			else note "$s: not installed; skipped"; fi
			continue
		fi
		if start "$s" "$s" "$ZONE" "$TMP/$ZONE.zone" "$PROBE_NAME" "$PROBE_TYPE" "$PROBE_EXPECT" "$START_TIMEOUT"; then
			running+=("$s")
			note "$s: answering on $ADDR port ${PORT[$s]} (pid ${PID[$s]})"
		else
			note "$s: did not start; skipped"
		fi
	done
	if [ ${#running[@]} = 0 ]; then
		[ "$SERVERS" = none ] && [ "$GEO$BIG" != 00 ] && return 0
		note "bench: no server to measure"
		exit 1
	fi
	sanity "${running[0]}" "${running[@]:1}"
}

# load_note WHEN -- the 1-minute load average, noted and kept for the report; other work on the
# machine (tests, builds) competes for the 2 CPUs and makes every figure noisier. Also the CPU time
# the hypervisor took (the steal column of /proc/stat) so far, and all CPU time: between two notes,
# the share stolen says how much of the machine the figures in between did not have.
declare -A LOADAVG_AT STEAL_AT TICKS_AT
load_note() {
	local l
	l=$(cut -d' ' -f1 /proc/loadavg)
	LOADAVG_AT[$1]=$l
	local steal ticks
	read -r steal ticks < <(awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat)
	STEAL_AT[$1]=$steal
	TICKS_AT[$1]=$ticks
	if awk -v l="$l" 'BEGIN { exit !(l > 0.5) }'; then
		note "bench: load average $l $1: other work shares the CPUs, figures will be noisy"
	else
		note "bench: load average $l $1"
	fi
}

# rotated R LABELS... -- the labels starting at the R-th (mod their number), so that across rounds
# every server runs at every position (first after a pause, right after another server).
rotated() {
	local r=$1
	shift
	local i=$((r % $#))
	printf '%s\n' "${@:i+1}" "${@:1:i}"
}

# warmup LABELS... -- one second of dnsperf per run before counting anything, so that the first
# round does not pay for page faults, cold caches and lazy set-up in the servers.
warmup() {
	local s PERF_SECS=1
	for s in "$@"; do perf "$s" "$TMP/warmup-$s.txt"; done
}

# saturated PREFIX LABELS... -- ROUNDS rounds of dnsperf -c 1 -T 1, the runs in turn each round
# (in rotated order); qps per round into QPS_R, lost queries summed into LOST.
saturated() {
	local prefix=$1 r s out c l v
	shift
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in $(rotated $((r - 1)) "$@"); do
			out=$TMP/$prefix-$s-$r.txt
			perf "$s" "$out"
			read -r c l v < <(perf_result "$out") || { note "  round $r $s: dnsperf failed, see $out"; FAILED[$s]=$((${FAILED[$s]-0} + 1)); continue; }
			QPS_R[$s]+="$v "
			LOST[$s]=$((${LOST[$s]-0} + l))
			note "  round $r $s: $v qps, $c completed, $l lost"
		done
	done
}

# fixed_load PREFIX LABELS... -- ROUNDS rounds at dnsperf -Q QPS (in rotated order); the server's
# CPU time over the run divided by the queries answered into CPU_R (its user part into CPU_U), lost
# queries summed into LOST_Q. A round that did not reach 95% of the offered rate (dnsperf starved by other work on the
# machine) measured another load, where a server batches differently: it is run again, up to
# twice, then kept and counted in SHORT.
fixed_load() {
	local prefix=$1 r s out c l v t0 t1 u0 u1 us uu try
	shift
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in $(rotated $((r - 1)) "$@"); do
			for ((try = 1; try <= 3; try++)); do
				out=$TMP/$prefix-$s-$r.txt
				read -r t0 u0 < <(cpu_ticks "${PID[$s]}")
				perf "$s" "$out" -Q "$QPS"
				read -r c l v < <(perf_result "$out") || { note "  round $r $s: dnsperf failed, see $out"; FAILED[$s]=$((${FAILED[$s]-0} + 1)); break; }
				read -r t1 u1 < <(cpu_ticks "${PID[$s]}")
				us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v c="$c" 'BEGIN { printf "%.3f", c ? d / hz * 1e6 / c : 0 }')
				uu=$(awk -v d=$((u1 - u0)) -v hz="$CLK_TCK" -v c="$c" 'BEGIN { printf "%.3f", c ? d / hz * 1e6 / c : 0 }')
				note "  round $r $s: $c answered at $v qps, $l lost, $((t1 - t0)) ticks ($((u1 - u0)) user), $us us/query"
				if awk -v v="$v" -v q="$QPS" 'BEGIN { exit !(v < 0.95 * q) }'; then
					if [ $try -lt 3 ]; then note "  round $r $s: below the offered $QPS qps; again"; continue; fi
					SHORT[$s]=$((${SHORT[$s]-0} + 1))
				fi
				CPU_R[$s]+="$us " CPU_U[$s]+="$uu "
				CPU_AT["$s $r"]=$us
				LOST_Q[$s]=$((${LOST_Q[$s]-0} + l))
				break
			done
		done
	done
}

# instructions LABEL NAME ZONE ZONEFILE -- user-space instructions per query: a fresh instance of
# server NAME under valgrind --tool=callgrind (every thread and child process), warmed up, its counters
# zeroed, then INSTR_QUERIES queries of LABEL's query file at a low fixed rate, and the counts dumped:
# the instructions executed divided by the queries answered, into INSTR[LABEL]. Repeatable, unlike
# CPU time, but blind to the kernel (most of figure 2) and to cache misses.
instructions() {
	local label=$1 name=$2 zone=$3 zfile=$4 out c l v f total=0
	local WRAP=(valgrind --tool=callgrind --trace-children=yes "--callgrind-out-file=$TMP/$label/callgrind.%p")
	start "$label" "$name" "$zone" "$zfile" "$PROBE_NAME" "$PROBE_TYPE" "$PROBE_EXPECT" 120 ||
		{ note "  $label: did not start under valgrind; left out"; return 0; }
	PERF_SECS=2 perf "$label" "$TMP/instr-warm-$label.txt" -Q "$INSTR_QPS"
	callgrind_control -z >/dev/null 2>&1
	out=$TMP/instr-$label.txt
	PERF_SECS=$((INSTR_QUERIES / INSTR_QPS)) perf "$label" "$out" -Q "$INSTR_QPS"
	callgrind_control -d >/dev/null 2>&1
	stop "$label"
	read -r c l v < <(perf_result "$out") || { note "  $label: dnsperf failed under valgrind, see $out"; return 0; }
	# the dumps asked for above are the files with a part number (callgrind.PID.N)
	for f in "$TMP/$label"/callgrind.*.*; do
		[ -e "$f" ] || continue
		total=$((total + $(awk '/^(summary|totals):/ { print $2; exit }' "$f")))
	done
	[ "$c" -gt 0 ] && [ "$total" -gt 0 ] || { note "  $label: no counts from callgrind"; return 0; }
	INSTR[$label]=$((total / c))
	note "  $label: $c answered ($l lost), $total instructions, ${INSTR[$label]} per query"
}

# figure_instr LABELS... -- instructions for each label (label NAME: the server, its query file)
figure_instr() {
	local s
	[ "$INSTR_ON" = 1 ] || return 0
	note "user-space instructions per query (callgrind), $INSTR_QUERIES queries at $INSTR_QPS qps each"
	for s in "$@"; do
		QFILE[$s-instr]=${QFILE[$s]-$TMP/queries} PERF_OPTS[$s-instr]=${PERF_OPTS[$s]-}
		case $s in
		gdnsd-geo) instructions "$s-instr" gdnsd-geo "$ZONE" "$TMP/geo-$ZONE.zone" ;;
		*) instructions "$s-instr" "${s%-static}" "$ZONE" "$TMP/$ZONE.zone" ;;
		esac
	done
}

figure1() {
	load_note "before figure 1"
	note "figure 1: saturated throughput, dnsperf -c 1 -T 1 -l $SECS, $ROUNDS rounds"
	warmup "${running[@]}"
	saturated fig1 "${running[@]}"
}

figure2() {
	load_note "before figure 2"
	note "figure 2: CPU per query at dnsperf -Q $QPS for $SECS s, $ROUNDS rounds"
	fixed_load fig2 "${running[@]}"
}

# transfer_big NAME RECORDS -- one AXFR of the big zone from the running big-NAME to
# bench/axfr.py: wall seconds, the server's CPU seconds for it (every thread and process), messages.
transfer_big() {
	local s=$1 records=$2 t0 t1 out n m secs
	read -r t0 _ < <(cpu_ticks "${PID[big-$s]}")
	out=$(python3 "$HERE/bench/axfr.py" "$ADDR" "${PORT[big-$s]}" "$BIG_ZONE" "$records" 2>&1) || {
		note "  $s: AXFR failed: $out"
		return 0
	}
	read -r t1 _ < <(cpu_ticks "${PID[big-$s]}")
	read -r n m secs <<<"$out"
	XFR_SECS[$s]=$secs XFR_MSGS[$s]=$m
	XFR_CPU[$s]=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz }')
	note "  $s: AXFR of $n records in $m messages, $secs s, ${XFR_CPU[$s]} s of server CPU"
}

figure3() {
	local s qname qtype rdata
	note "figure 3: loading $BIG_RECORDS records"
	"$HERE/gen-bench-zone.sh" big "$BIG_ZONE" "$BIG_RECORDS" >"$TMP/$BIG_ZONE.zone"
	read -r qname _ _ qtype rdata < <(tail -n 1 "$TMP/$BIG_ZONE.zone")
	local servers=$SERVERS
	[ "$servers" = none ] && servers="meridian knot nsd"
	for s in $servers; do
		case $s in meridian | knot | nsd) ;; *) continue ;; esac
		have_server "$s" || continue
		if start "big-$s" "$s" "$BIG_ZONE" "$TMP/$BIG_ZONE.zone" "$qname" "$qtype" "$rdata" "$LOAD_TIMEOUT"; then
			read -r "MEM_RSS[$s]" "MEM_PSS[$s]" < <(mem_kib "${PID[big-$s]}")
			LOAD[$s]=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
			note "  $s: ${LOAD[$s]} s to answer $qname $qtype, RSS $((MEM_RSS[$s] / 1024)) MiB, PSS $((MEM_PSS[$s] / 1024)) MiB"
			transfer_big "$s" "$(grep -vc '^\$' "$TMP/$BIG_ZONE.zone")"
			stop "big-$s"
		else
			note "  $s: did not load the zone"
		fi
	done
}

# --------------------------------------------------------------------- geo -----

GEO_DB_FILE="" GEO_DB_DESC="" GEO_HEX="" GEO_REGION="" GEO_SKIP="" GEO_BAD=0 GEO_SCOPE=0 GEO_NSAMPLES=0
GEO_RUNS=()     # the figure 4 servers that started and passed the checks
GEO_DIFFS=()    # sample queries whose answers differ between the two geo servers
declare -A GEO_PICK    # region (or "v6") -> a client subnet of it found in the database

# The database of the geo run: BENCH_GEO_DB, else a synthetic one, else the demo database.
geo_database() {
	if [ -n "$GEO_DB" ]; then
		GEO_DB_FILE=$GEO_DB GEO_DB_DESC=$GEO_DB
	elif perl "$HERE/gen-geo-db.pl" --synthetic "$GEO_NETS" "$TMP/geo-synthetic.mmdb" "$GEO_LAYOUT" >"$TMP/geo-db.log" 2>&1; then
		GEO_DB_FILE=$TMP/geo-synthetic.mmdb
		GEO_DB_DESC="synthetic GeoIP2-City, $GEO_NETS networks, $GEO_LAYOUT (scripts/gen-geo-db.pl)"
	else
		note "geo: scripts/gen-geo-db.pl --synthetic failed; using the demo database. Its log:"
		tail -n 3 "$TMP/geo-db.log" | sed 's/^/    /' >&2
		GEO_DB_FILE=$(cd "$HERE/.." && pwd)/zones/geo/demo-city.mmdb
		GEO_DB_DESC="zones/geo/demo-city.mmdb (demo)"
	fi
}

# The continent code the database gives an address, empty when it has none.
geo_continent() {
	mmdblookup -f "$GEO_DB_FILE" -i "$1" continent code 2>/dev/null |
		sed -n 's/^ *"\([A-Z][A-Z]\)" <utf8_string>.*/\1/p' | head -n 1
}

# The deployment's region for a continent, as in bench/meridian-geo.conf.in.
geo_region() {
	case $1 in
	EU | AF) echo europe ;;
	NA | SA) echo americas ;;
	AS | OC) echo asia ;;
	*) echo default ;;
	esac
}

# Candidate client networks: a few of the demo database first, then spread over the IPv4
# space (neither 10/8 nor 127/8, which the synthetic database leaves out, nor the office net);
# IPv6 /48s of the demo database and of the synthetic layout (which starts at 2400::).
geo_candidates4() {
	printf '%s\n' 10.1.0.0 10.7.0.0 10.8.0.0
	awk 'BEGIN { for (i = 0; i < 1000; i++) { a = 1 + (i * 89) % 223; if (a == 10 || a == 127 || a == 198) continue
		printf "%d.%d.%d.0\n", a, (i * 151) % 256, (i * 47) % 256 } }'
}
geo_candidates6() {
	printf '%s\n' 2001:db8:1:: 2001:db8:6::
	awk 'BEGIN { for (i = 0; i < 200; i++) printf "2400:0:%x::\n", (i * 331) % 24576 }'
}

# Fills GEO_PICK with one /24 of each region found in the database and one IPv6 /48.
geo_pick() {
	local net cont
	while read -r net; do
		cont=$(geo_continent "$net")
		[ -n "$cont" ] || continue
		[ -n "${GEO_PICK[$(geo_region "$cont")]-}" ] || GEO_PICK[$(geo_region "$cont")]=$net/24
		[ -n "${GEO_PICK[europe]-}" ] && [ -n "${GEO_PICK[americas]-}" ] && [ -n "${GEO_PICK[asia]-}" ] && break
	done < <(geo_candidates4)
	while read -r net; do
		[ -n "$(geo_continent "$net")" ] && { GEO_PICK[v6]=$net/48; break; }
	done < <(geo_candidates6)
	return 0
}

# The ECS option (RFC 7871) for a subnet, as the hex dnsperf -E and dig +ednsopt take: family,
# source prefix, scope 0, and the address cut to the bytes the prefix covers.
ecs_hex() {
	perl -MSocket=inet_pton,AF_INET,AF_INET6 -e '
		my ($a, $p) = split m{/}, $ARGV[0];
		my $v6 = $a =~ /:/;
		my $b = inet_pton($v6 ? AF_INET6 : AF_INET, $a);
		exit 1 unless defined $b;
		$p //= 8 * length $b;
		exit 1 unless $p =~ /^\d+$/ && $p <= 8 * length $b;
		printf "%04x%02x00%s\n", $v6 ? 2 : 1, $p, unpack("H*", substr($b, 0, int(($p + 7) / 8)));' "$1"
}

# geo_answer PORT NAME TYPE [DIG_OPTION] -- the answer as a comparable text: rcode, AA, answer and
# authority sections, each sorted, then "ecs SOURCE/SCOPE" from the reply's ECS option.
geo_answer() {
	dig @"$ADDR" -p "$1" +norec +nocookie +time=2 +tries=2 ${4:+"$4"} "$2" "$3" 2>/dev/null | awk '
		/->>HEADER<<-/ { sub(/.*status: /, ""); sub(/,.*/, ""); print "rcode " $0 }
		/^;; flags:/ { print "aa " ($0 ~ /flags:[^;]* aa[ ;]/ ? 1 : 0) }
		/^; CLIENT-SUBNET: / { ecs = $3 }
		/^;; [A-Z]+ SECTION:/ { sec = $2; next }
		/^$/ { sec = "" }
		(sec == "ANSWER" || sec == "AUTHORITY") && !/^;/ { $1 = $1; print sec " " $0 }
		END { print "~ecs " (ecs == "" ? "none" : ecs) }' | sort
}

# The sample queries: "DIG_OPTION NAME TYPE WHAT", DIG_OPTION "-" for a query without ECS. The
# first three carry the benchmark's own ECS option, byte for byte what dnsperf sends.
geo_samples() {
	local last=geo$GEO_NAMES.$ZONE. mid=geo$((GEO_NAMES / 2 + 1)).$ZONE. r n
	for n in "geo1.$ZONE." "$mid" "$last"; do echo "+ednsopt=8:$GEO_HEX $n A bench"; done
	for r in europe americas asia v6; do
		[ -n "${GEO_PICK[$r]-}" ] || continue
		for n in "geo1.$ZONE." "$last"; do echo "+subnet=${GEO_PICK[$r]} $n A $r"; done
	done
	echo "+subnet=10.0.0.0/24 geo1.$ZONE. A default"
	echo "+subnet=${OFFICE4%/*}/24 geo1.$ZONE. A office-net"
	echo "+subnet=$OFFICE6 $last A office-net-v6"
	echo "- geo1.$ZONE. A no-ecs"
	echo "+subnet=0.0.0.0/0 geo1.$ZONE. A ecs-/0"
	echo "+ednsopt=8:$GEO_HEX geo1.$ZONE. AAAA nodata"
	echo "+ednsopt=8:$GEO_HEX nxgeo.$ZONE. A nxdomain"
	echo "+ednsopt=8:$GEO_HEX $PROBE_NAME A static"
}

# Checks the geo servers before anything is measured: meridian must answer the benchmark's ECS
# option with the members of the region's first datacenter (ams for europe, as configured), and
# gdnsd must give the same answers (rcode, AA, sections) for every sample. A difference in the
# benchmark's own queries drops gdnsd from the comparison; one elsewhere is reported. ECS scopes
# are compared too but only reported: they do not change what is measured.
geo_check() {
	local opt name type what want got a b expect
	expect=$(printf 'ANSWER %%s 30 IN A %s\n' 192.0.2.10 192.0.2.11)
	[ "$GEO_REGION" = asia ] && expect=$(printf 'ANSWER %%s 30 IN A %s\n' 203.0.113.10 203.0.113.11)
	geo_samples >"$TMP/geo-samples"
	GEO_NSAMPLES=$(wc -l <"$TMP/geo-samples")
	while read -r opt name type what; do
		[ "$opt" = - ] && opt=""
		want=$(geo_answer "${PORT[meridian-geo]}" "$name" "$type" "$opt")
		if [ "$what" = bench ]; then
			# shellcheck disable=SC2059 # the format is ours
			if [ "$(grep '^ANSWER' <<<"$want")" != "$(printf "$expect" "$name" "$name")" ] || ! grep -q '^rcode NOERROR' <<<"$want"; then
				note "geo: meridian does not answer $name with the members for region $GEO_REGION:"
				printf '    %s\n' "${want//$'\n'/$'\n'    }" >&2
				return 1
			fi
		fi
		[ -n "${PORT[gdnsd-geo]-}" ] || continue
		got=$(geo_answer "${PORT[gdnsd-geo]}" "$name" "$type" "$opt")
		a=$(grep -v '^~ecs' <<<"$want") b=$(grep -v '^~ecs' <<<"$got")
		if [ "$a" != "$b" ]; then
			GEO_BAD=$((GEO_BAD + 1))
			GEO_DIFFS+=("$name $type ${opt:-(no ECS)} ($what)")
			note "  gdnsd-geo answers $name $type ${opt:-without ECS} ($what) differently:"
			diff <(echo "$a") <(echo "$b") | grep '^[<>]' | sed 's/^</    meridian:/; s/^>/    gdnsd:/' >&2 || true
			[ "$what" = bench ] && GEO_SKIP="gdnsd-geo answers the benchmark's queries differently"
		elif [ "$(grep '^~ecs' <<<"$want")" != "$(grep '^~ecs' <<<"$got")" ]; then
			GEO_SCOPE=$((GEO_SCOPE + 1))
			note "  ECS scope differs for $name $type ${opt:-without ECS} ($what): meridian $(sed -n 's/^~ecs //p' <<<"$want"), gdnsd $(sed -n 's/^~ecs //p' <<<"$got")"
		fi
	done <"$TMP/geo-samples"
	if [ -n "${PORT[gdnsd-geo]-}" ]; then
		note "sanity: gdnsd-geo answers $((GEO_NSAMPLES - GEO_BAD)) of $GEO_NSAMPLES geo sample queries as meridian-geo ($GEO_SCOPE with another ECS scope)"
	fi
}

# Everything the geo run needs: database, client subnet, zones, query files, the three servers.
geo_prepare() {
	local n
	command -v mmdblookup >/dev/null || { note "geo: needs mmdblookup (libmaxminddb tools); figure 4 skipped"; return 1; }
	command -v perl >/dev/null || { note "geo: needs perl; figure 4 skipped"; return 1; }
	have_server meridian-geo || { note "geo: $MERIDIAND not built; figure 4 skipped"; return 1; }
	geo_database
	geo_pick
	if [ -n "$GEO_CLIENT" ]; then
		GEO_REGION=$(geo_region "$(geo_continent "${GEO_CLIENT%/*}")")
	else
		GEO_CLIENT=${GEO_PICK[europe]-${GEO_PICK[asia]-}}
		GEO_REGION=$(geo_region "$(geo_continent "${GEO_CLIENT%/*}")")
	fi
	[ -n "$GEO_CLIENT" ] || { note "geo: no network of a non-default region found in $GEO_DB_FILE; figure 4 skipped"; return 1; }
	case $GEO_REGION in
	europe | asia) ;;
	*) note "geo: client $GEO_CLIENT is in region $GEO_REGION, not europe or asia; figure 4 skipped"; return 1 ;;
	esac
	GEO_HEX=$(ecs_hex "$GEO_CLIENT") || { note "geo: $GEO_CLIENT is not an address/prefix; figure 4 skipped"; return 1; }
	note "geo: database $GEO_DB_DESC; every query carries ECS $GEO_CLIENT (region $GEO_REGION)"

	# gdnsd's zone: the bench zone plus the resource at every dynamic name; meridian's dynamic
	# records come from its config, over the plain bench zone.
	cp "$TMP/$ZONE.zone" "$TMP/geo-$ZONE.zone"
	for ((n = 1; n <= GEO_NAMES; n++)); do echo "geo$n 30 IN DYNA geoip!web"; done >>"$TMP/geo-$ZONE.zone"
	awk -v n="$GEO_NAMES" -v count="$NQUERIES" -v zone="$ZONE" 'BEGIN {
		srand(20240602); for (q = 0; q < count; q++) printf "geo%d.%s. A\n", 1 + int(rand() * n), zone }' >"$TMP/queries-geo"
	"$HERE/bench/gen-queries.sh" -n "$NQUERIES" -m a=100 "$TMP/$ZONE.zone" >"$TMP/queries-static"
	QFILE[meridian-static]=$TMP/queries-static
	QFILE[meridian-geo]=$TMP/queries-geo PERF_OPTS[meridian-geo]="-E 8:$GEO_HEX"
	QFILE[gdnsd-geo]=$TMP/queries-geo PERF_OPTS[gdnsd-geo]="-E 8:$GEO_HEX"

	start meridian-static meridian "$ZONE" "$TMP/$ZONE.zone" "$PROBE_NAME" "$PROBE_TYPE" "$PROBE_EXPECT" "$START_TIMEOUT" ||
		{ note "geo: meridian (static) did not start; figure 4 skipped"; return 1; }
	start meridian-geo meridian-geo "$ZONE" "$TMP/$ZONE.zone" "$PROBE_NAME" "$PROBE_TYPE" "$PROBE_EXPECT" "$START_TIMEOUT" ||
		{ note "geo: meridian (geo) did not start; figure 4 skipped"; return 1; }
	GEO_RUNS=(meridian-static meridian-geo)
	if ! have_server gdnsd-geo; then
		GEO_SKIP="gdnsd not installed"
	elif start gdnsd-geo gdnsd-geo "$ZONE" "$TMP/geo-$ZONE.zone" "$PROBE_NAME" "$PROBE_TYPE" "$PROBE_EXPECT" "$START_TIMEOUT"; then
		GEO_RUNS+=(gdnsd-geo)
	else
		GEO_SKIP="gdnsd with plugin_geoip did not start"
	fi
	for n in "${GEO_RUNS[@]}"; do note "$n: answering on $ADDR port ${PORT[$n]} (pid ${PID[$n]})"; done
	geo_check || { note "geo: figure 4 skipped"; return 1; }
	if [ -n "$GEO_SKIP" ] && [ -n "${PID[gdnsd-geo]-}" ]; then
		stop gdnsd-geo
		GEO_RUNS=(meridian-static meridian-geo)
	fi
	[ -z "$GEO_SKIP" ] || note "geo: gdnsd left out: $GEO_SKIP"
}

figure4() {
	local s ok=1
	note "figure 4: geo routing, $GEO_NAMES dynamic names, ECS in every query"
	geo_prepare || ok=0
	if [ $ok = 1 ]; then
		load_note "before figure 4"
		note "figure 4: saturated throughput, dnsperf -c 1 -T 1 -l $SECS, $ROUNDS rounds"
		warmup "${GEO_RUNS[@]}"
		saturated fig4 "${GEO_RUNS[@]}"
		note "figure 4: CPU per query at dnsperf -Q $QPS for $SECS s, $ROUNDS rounds"
		fixed_load fig4q "${GEO_RUNS[@]}"
		load_note "after figure 4"
	else
		GEO_RUNS=()
	fi
	for s in meridian-static meridian-geo gdnsd-geo; do stop "$s"; done
	[ ${#GEO_RUNS[@]} = 0 ] || figure_instr "${GEO_RUNS[@]}"
}

# ------------------------------------------------------------------- report ----

versions() {
	local s out=()
	for s in "${running[@]}"; do
		case $s in
		meridian) out+=("meridian $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo '?')") ;;
		nsd) out+=("$(nsd -v 2>&1 | head -n 1 | sed 's/ version//')") ;;
		knot) out+=("$(knotd -V 2>&1 | sed 's/.*version /knot /')") ;;
		gdnsd) out+=("$(gdnsd_version)") ;;
		esac
	done
	local IFS=,
	local all="${out[*]}"
	echo "${all//,/, }"
}

# gdnsd has no version option: its usage message, printed for an unknown one, names it.
gdnsd_version() { gdnsd -V 2>&1 | sed -n 's/^gdnsd version /gdnsd /p' | head -n 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# paired_ratio A B -- the median over rounds of A's CPU per query divided by B's in the same round
# (interleaved rounds run close in time, so a change in the machine's load moves both alike), and
# the rounds' min..max; "-" when no round has both
paired_ratio() {
	local r v all=""
	for ((r = 1; r <= ROUNDS; r++)); do
		[ -n "${CPU_AT["$1 $r"]-}" ] && [ -n "${CPU_AT["$2 $r"]-}" ] || continue
		v=$(ratio "${CPU_AT["$1 $r"]}" "${CPU_AT["$2 $r"]}")
		[ "$v" = - ] || all+="$v "
	done
	[ -n "$all" ] || { echo "-"; return; }
	printf '%.2f (rounds %s)\n' "$(median "$all")" "$(spread %.2f "$all")"
}

# best LIST_OF "server value" lines, highest (max) or lowest (min) value among peers
best_peer() {
	local mode=$1
	awk -v m="$mode" '$1 != "meridian" && $2 != "" && $2 != "nan" {
		if (b == "" || (m == "max" ? $2 > v : $2 < v)) { b = $1; v = $2 } }
		END { if (b != "") print b, v }'
}

# Figures 1 and 2.
report_static() {
	local s r best bv
	echo
	echo "Figure 1: saturated throughput (dnsperf -c 1 -T 1, ${SECS}s x $ROUNDS rounds, median)"
	printf '  %-9s %10s %8s %15s   %s\n' server qps lost meridian/peer 'rounds min..max'
	declare -A MQ MC
	for s in "${running[@]}"; do MQ[$s]=$(median "${QPS_R[$s]-}"); done
	for s in "${running[@]}"; do
		r="-"; [ "$s" != meridian ] && [ -n "${MQ[meridian]-}" ] && r=$(ratio "${MQ[meridian]}" "${MQ[$s]}")
		printf '  %-9s %10.0f %8d %15s   %s\n' "$s" "${MQ[$s]}" "${LOST[$s]-0}" "$r" "$(spread %.0f "${QPS_R[$s]-}")"
	done
	read -r best bv < <(for s in "${running[@]}"; do echo "$s ${MQ[$s]}"; done | best_peer max) || true
	target_line ">= 1.00" "${MQ[meridian]-}" "$best" "$bv" ge
	lost_notes LOST "${running[@]}"
	echo
	echo "Figure 2: CPU per query at dnsperf -Q $QPS (${SECS}s x $ROUNDS rounds, median; lower is better)"
	printf '  %-9s %10s %15s   %s\n' server us/query meridian/peer 'rounds min..max'
	for s in "${running[@]}"; do MC[$s]=$(median "${CPU_R[$s]-}"); done
	for s in "${running[@]}"; do
		r="-"; [ "$s" != meridian ] && [ -n "${MC[meridian]-}" ] && r=$(ratio "${MC[meridian]}" "${MC[$s]}")
		printf '  %-9s %10.3f %15s   %s\n' "$s" "${MC[$s]}" "$r" "$(spread %.3f "${CPU_R[$s]-}")"
	done
	read -r best bv < <(for s in "${running[@]}"; do echo "$s ${MC[$s]}"; done | best_peer min) || true
	target_line "<= 0.90" "${MC[meridian]-}" "$best" "$bv" le
	[ -z "$best" ] || echo "  paired by round, meridian/$best: $(paired_ratio meridian "$best")"
	lost_notes LOST_Q "${running[@]}"
	report_instr "Figure 2i" meridian "${running[@]}"
}

# report_instr TITLE MERIDIAN_LABEL LABELS... -- the instruction counts of figure_instr, beside
# meridian's
report_instr() {
	local title=$1 m=$2 s r
	shift 2
	[ -n "${INSTR[$m-instr]-}" ] || return 0
	echo "$title: user-space instructions per query (callgrind, $INSTR_QUERIES queries at $INSTR_QPS qps; every"
	echo "  thread and child process; the kernel's UDP path, most of the CPU time above, is not counted)"
	printf '  %-16s %12s %15s\n' run instructions meridian/peer
	for s in "$@"; do
		[ -n "${INSTR[$s-instr]-}" ] || continue
		r="-"; [ "$s" != "$m" ] && r=$(ratio "${INSTR[$m-instr]}" "${INSTR[$s-instr]}")
		printf '  %-16s %12s %15s\n' "$s" "${INSTR[$s-instr]}" "$r"
	done
}

report() {
	local s
	echo
	echo "meridian benchmark -- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)"
	echo "zone: $NAMES names; $NQUERIES queries, mix (percent) $MIX; $(($(date +%s) - T_START)) s in all"
	[ ${#running[@]} = 0 ] || echo "servers: $(versions)"
	echo "load average (1 min; 2 CPUs, other work shares them):$(for s in "at start" "before figure 1" "before figure 2" "before figure 4" "after figure 4"; do [ -n "${LOADAVG_AT[$s]-}" ] && printf ' %s %s;' "$s" "${LOADAVG_AT[$s]}"; done)"
	echo "CPU time taken by the hypervisor (steal, /proc/stat) between those moments:$(
		prev=
		for s in "at start" "before figure 1" "before figure 2" "before figure 4" "after figure 4"; do
			[ -n "${STEAL_AT[$s]-}" ] || continue
			[ -n "$prev" ] && awk -v a="$prev" -v b="$s" -v s=$((STEAL_AT[$s] - STEAL_AT[$prev])) \
				-v t=$((TICKS_AT[$s] - TICKS_AT[$prev])) 'BEGIN { printf " %s to %s %.1f%%;", a, b, t ? 100 * s / t : 0 }'
			prev=$s
		done)"
	[ ${#running[@]} = 0 ] || report_static
	[ ${#GEO_RUNS[@]} = 0 ] || report_geo
	if [ "$BIG" != 0 ] && [ -n "${LOAD[*]-}" ]; then
		echo
		echo "Figure 3: loading $BIG_RECORDS records (start to first correct answer for the last record)"
		echo "  memory at that moment: RSS summed over the server's processes, PSS (proportional: pages"
		echo "  shared between forked processes counted once); ratios use PSS"
		printf '  %-9s %9s %9s %9s %12s %12s\n' server seconds 'RSS MiB' 'PSS MiB' 'time ratio' 'mem ratio'
		for s in meridian knot nsd; do
			[ -n "${LOAD[$s]-}" ] || continue
			local tr="-" mr="-"
			if [ "$s" != meridian ] && [ -n "${LOAD[meridian]-}" ]; then
				tr=$(ratio "${LOAD[meridian]}" "${LOAD[$s]}"); mr=$(ratio "${MEM_PSS[meridian]}" "${MEM_PSS[$s]}")
			fi
			printf '  %-9s %9s %9.1f %9.1f %12s %12s\n' "$s" "${LOAD[$s]}" \
				"$(awk -v k="${MEM_RSS[$s]}" 'BEGIN { print k / 1024 }')" \
				"$(awk -v k="${MEM_PSS[$s]}" 'BEGIN { print k / 1024 }')" "$tr" "$mr"
		done
		echo "  target: reported beside Knot and NSD (ratios are meridian/peer, lower is better)"
		if [ -n "${XFR_SECS[*]-}" ]; then
			echo "Figure 3t: one AXFR of that zone, once loaded, to one client (scripts/bench/axfr.py,"
			echo "  which reads each message's header only): seconds from request to last byte, and the"
			echo "  server's CPU seconds meanwhile (user + system, every thread and process)"
			printf '  %-9s %9s %9s %9s %12s %12s\n' server seconds 'CPU s' messages 'time ratio' 'CPU ratio'
			for s in meridian knot nsd; do
				[ -n "${XFR_SECS[$s]-}" ] || continue
				local xr="-" cr="-"
				if [ "$s" != meridian ] && [ -n "${XFR_SECS[meridian]-}" ]; then
					xr=$(ratio "${XFR_SECS[meridian]}" "${XFR_SECS[$s]}")
					cr=$(ratio "${XFR_CPU[meridian]}" "${XFR_CPU[$s]}")
				fi
				printf '  %-9s %9s %9s %9s %12s %12s\n' "$s" "${XFR_SECS[$s]}" "${XFR_CPU[$s]}" \
					"${XFR_MSGS[$s]}" "$xr" "$cr"
			done
		fi
	fi
}

# lost_notes LOST|LOST_Q LABELS... -- a line for every run that lost queries, whose dnsperf failed
# (both figures together, with LOST) or that stayed below the offered load (with LOST_Q)
lost_notes() {
	local which=$1 s
	local -n lost=$1
	shift
	for s in "$@"; do
		[ "${lost[$s]-0}" = 0 ] || echo "  note: $s lost ${lost[$s]} queries; BENCHMARKING.md asks for zero lost"
		[ "$which" != LOST ] || [ "${FAILED[$s]-0}" = 0 ] ||
			echo "  note: dnsperf failed in ${FAILED[$s]} runs at $s; the medians leave them out"
		[ "$which" != LOST_Q ] || [ "${SHORT[$s]-0}" = 0 ] ||
			echo "  note: $s stayed below 95% of the offered $QPS qps in ${SHORT[$s]} rounds after 3 tries (machine busy)"
	done
}

# verdict RATIO TARGET ge|le -- "met" or "NOT met" ("-" when a figure is missing)
verdict() {
	[ "$1" != - ] || { echo "not measured"; return; }
	if awk -v r="$1" -v t="$2" -v h="$3" 'BEGIN { exit !(h == "ge" ? r >= t : r <= t) }'; then echo met; else echo "NOT met"; fi
}

report_geo() {
	local s r
	declare -A GQ GC
	echo
	echo "Figure 4: geo routing with ECS (issue 3), ${SECS}s x $ROUNDS rounds interleaved, median"
	echo "  database: $GEO_DB_DESC"
	echo "  meridian-geo / gdnsd-geo: bench zone + $GEO_NAMES dynamic A names geo1..geo$GEO_NAMES (failover per"
	echo "    region over 3 datacenters x 2 members; regions by continent, an office net, default americas);"
	echo "    every query 'geoN A' with one ECS option $GEO_CLIENT (region $GEO_REGION; dnsperf -E 8:$GEO_HEX)"
	echo "  meridian-static: plain bench config, 'A' queries at static names, no EDNS"
	[ -z "$GEO_SKIP" ] || echo "  gdnsd left out: $GEO_SKIP"
	[[ " ${GEO_RUNS[*]} " != *" gdnsd-geo "* ]] ||
		echo "  sanity: $(gdnsd_version) with plugin_geoip gives meridian's answers for $((GEO_NSAMPLES - GEO_BAD)) of $GEO_NSAMPLES sample queries (the benchmark's own all equal), $GEO_SCOPE with another ECS scope"
	for s in "${GEO_DIFFS[@]}"; do echo "    differs: $s"; done
	echo "  saturated: qps, queries lost, rounds min..max; at -Q $QPS: CPU us/query (user+system, its user"
	echo "  part beside it: the rest is the kernel's UDP path), queries lost, rounds min..max"
	printf '  %-16s %9s %6s %15s   %8s %6s %6s %13s\n' run qps lost min..max us/query user lost min..max
	for s in "${GEO_RUNS[@]}"; do
		GQ[$s]=$(median "${QPS_R[$s]-}") GC[$s]=$(median "${CPU_R[$s]-}")
		printf '  %-16s %9.0f %6d %15s   %8.3f %6.3f %6d %13s\n' "$s" "${GQ[$s]}" "${LOST[$s]-0}" \
			"$(spread %.0f "${QPS_R[$s]-}")" "${GC[$s]}" "$(median "${CPU_U[$s]-}")" "${LOST_Q[$s]-0}" \
			"$(spread %.3f "${CPU_R[$s]-}")"
	done
	r=$(ratio "${GQ[meridian-geo]-}" "${GQ[meridian-static]-}")
	echo "  meridian geo / meridian static, saturated qps: $r (target >= 0.95: $(verdict "$r" 0.95 ge))"
	r=$(ratio "${GC[meridian-geo]-}" "${GC[meridian-static]-}")
	echo "  meridian geo / meridian static, CPU per query: $r"
	if [ -n "${GQ[gdnsd-geo]-}" ]; then
		r=$(ratio "${GQ[meridian-geo]}" "${GQ[gdnsd-geo]}")
		echo "  meridian geo / gdnsd geo, saturated qps: $r (bounded by the client, see BENCHMARKING.md)"
		r=$(ratio "${GC[meridian-geo]}" "${GC[gdnsd-geo]}")
		echo "  meridian geo / gdnsd geo, CPU per query: $r (target >= 1.2x gdnsd as efficiency, i.e. <= 0.83: $(verdict "$r" 0.8333 le))"
		echo "  meridian geo / gdnsd geo, CPU per query paired by round: $(paired_ratio meridian-geo gdnsd-geo)"
	fi
	lost_notes LOST "${GEO_RUNS[@]}"
	lost_notes LOST_Q "${GEO_RUNS[@]}"
	report_instr "Figure 4i" meridian-geo "${GEO_RUNS[@]}"
}

# target_line TARGET MERIDIAN_VALUE BEST_PEER BEST_VALUE ge|le
target_line() {
	local target=$1 mv=$2 best=$3 bv=$4 how=$5 r
	if [ -z "$best" ]; then echo "  target: meridian/best peer $target (no peer measured)"; return; fi
	if [ -z "$mv" ]; then echo "  target: meridian/best peer ($best) $target (meridian not measured)"; return; fi
	r=$(ratio "$mv" "$bv")
	if awk -v r="$r" -v t="${target#* }" -v h="$how" 'BEGIN { exit !(h == "ge" ? r >= t : r <= t) }'; then
		echo "  target: meridian/best peer ($best) $target: $r, met"
	else
		echo "  target: meridian/best peer ($best) $target: $r, NOT met"
	fi
}

prepare
start_all
if [ ${#running[@]} -gt 0 ]; then
	figure1
	figure2
fi
for s in "${running[@]}"; do stop "$s"; done
[ ${#running[@]} = 0 ] || figure_instr "${running[@]}"
[ "$GEO" = 0 ] || figure4
[ "$BIG" = 0 ] || figure3
report
if [ "${BENCH_FAILOVER:-1}" != 0 ]; then
	echo
	python3 "$HERE/bench/failover.py" "$(dirname "$MERIDIAND")"
	python3 "$HERE/bench/failover.py" "$(dirname "$MERIDIAND")" --lua --regions 20 --rounds 10
	python3 "$HERE/bench/failover.py" "$(dirname "$MERIDIAND")" --intent
fi
