#!/usr/bin/env bash
# bench.sh -- benchmark meridian beside NSD, Knot and gdnsd (run by `make bench`).
#
#   scripts/bench.sh [BUILD_DIR]        (default: build)
#
# Follows shared/BENCHMARKING.md. Every server gets the same generated zone and query mix, one
# worker thread and a free loopback port of its own:
#   1. saturated throughput: dnsperf -c 1 -T 1 -l SECONDS, ROUNDS rounds taken in turn, median qps;
#   2. CPU per query at a fixed offered load (dnsperf -Q QPS): the server's user+system time, all
#      threads and processes, from /proc/PID/stat, divided by the queries answered;
#   3. loading a zone of BIG_RECORDS records: time from start to the first correct answer for the
#      last record of the file, and memory at that moment (meridian, Knot, NSD).
# Environment: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_QPS (40000), BENCH_NAMES (10000 names in
# the zone), BENCH_QUERIES (100000 lines in the query file), BENCH_MIX (kinds of query and their
# weights, see bench/gen-queries.sh), BENCH_BIG (1; 0 skips figure 3), BENCH_BIG_RECORDS (1000000),
# BENCH_LOAD_TIMEOUT (300 s), BENCH_SERVERS ("meridian nsd knot gdnsd"), BENCH_KEEP (0; 1 keeps the
# temporary directory with configs, zones, logs and dnsperf outputs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-build}
MERIDIAND=$BUILD/meridiand
[ -d "$BUILD" ] && MERIDIAND=$(cd "$BUILD" && pwd)/meridiand
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
QPS=${BENCH_QPS:-40000}
NAMES=${BENCH_NAMES:-10000}
NQUERIES=${BENCH_QUERIES:-100000}
BIG=${BENCH_BIG:-1}
BIG_RECORDS=${BENCH_BIG_RECORDS:-1000000}
SERVERS=${BENCH_SERVERS:-meridian nsd knot gdnsd}
MIX=${BENCH_MIX:-a=45,aaaa=15,cname=10,wild=5,nx=10,nodata=10,ref=5}
KEEP=${BENCH_KEEP:-0}
ADDR=127.0.0.1
ZONE=example.com
BIG_ZONE=big.example
START_TIMEOUT=30
LOAD_TIMEOUT=${BENCH_LOAD_TIMEOUT:-300}
CLK_TCK=$(getconf CLK_TCK)

for v in SECS ROUNDS QPS NAMES NQUERIES BIG_RECORDS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: $v must be a positive integer" >&2; exit 2; }
done
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
cpu_ticks() {
	local p
	for p in $(tree_pids "$1"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); t += f[12] + f[13] + f[14] + f[15] }
		END { printf "%d\n", t }'
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
	meridian) [ -x "$MERIDIAND" ] ;;
	nsd) command -v nsd >/dev/null ;;
	knot) command -v knotd >/dev/null ;;
	gdnsd) command -v gdnsd >/dev/null ;;
	*) return 1 ;;
	esac
}

# render TEMPLATE OUT DIR ZONE ZONEFILE PORT [OPTIONS]
render() {
	sed -e "s|@ADDR@|$ADDR|g" -e "s|@PORT@|$6|g" -e "s|@DIR@|$3|g" -e "s|@ZONE@|$4|g" \
		-e "s|@ZONEFILE@|$5|g" "$HERE/bench/$1" | awk -v opts="${7-}" '
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
	if nsd -v 2>&1 | grep -q -- --disable-ratelimit; then
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
	gdnsd)
		# gdnsd reads DIR/config and every file in DIR/zones, named after its zone.
		mkdir -p "$dir/zones" "$dir/run" "$dir/state"
		render gdnsd.config.in "$dir/config" "$dir" "$zone" "$zfile" "$port"
		cp "$zfile" "$dir/zones/$zone"
		CMD=(gdnsd -c "$dir" start) ;;
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
		"${CMD[@]}" >"$dir/log" 2>&1 &
		pid=$!
		STARTED+=("$pid")
		deadline=$(($(date +%s) + timeout))
		while alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do
			if ask "$port" "$qname" "$qtype" | grep -qxF -- "$expect"; then
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

# perf LABEL OUT ARGS... -- run dnsperf against a started server, output to OUT. In the
# background so that a signal reaches our trap at once, and the trap can stop it.
perf() {
	local label=$1 out=$2
	shift 2
	dnsperf -s "$ADDR" -p "${PORT[$label]}" -d "$TMP/queries" -c 1 -T 1 -l "$SECS" "$@" >"$out" 2>&1 &
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
declare -A QPS_R LOST CPU_R LOAD MEM_RSS MEM_PSS

prepare() {
	LOADAVG=$(cut -d' ' -f1 /proc/loadavg)
	awk -v l="$LOADAVG" 'BEGIN { exit !(l > 0.5) }' &&
		note "bench: load average $LOADAVG before starting: other work shares the CPUs, figures will be noisy"
	note "bench: zone of $NAMES names and $NQUERIES queries in $TMP"
	"$HERE/gen-bench-zone.sh" bench "$ZONE" "$NAMES" >"$TMP/$ZONE.zone"
	"$HERE/bench/gen-queries.sh" -n "$NQUERIES" -m "$MIX" -s "$TMP/samples" "$TMP/$ZONE.zone" >"$TMP/queries"
	read -r PROBE_NAME PROBE_TYPE PROBE_EXPECT < <(awk '$1 == "h1" && $4 == "A" { print "h1.'"$ZONE"'.", "A", $5; exit }' "$TMP/$ZONE.zone")
}

start_all() {
	local s
	for s in $SERVERS; do
		case $s in meridian | nsd | knot | gdnsd) ;; *) note "$s: unknown server; skipped"; continue ;; esac
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
	[ ${#running[@]} -gt 0 ] || { note "bench: no server to measure"; exit 1; }
	sanity "${running[0]}" "${running[@]:1}"
}

figure1() {
	local r s out c l v
	note "figure 1: saturated throughput, dnsperf -c 1 -T 1 -l $SECS, $ROUNDS rounds"
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in "${running[@]}"; do
			out=$TMP/fig1-$s-$r.txt
			perf "$s" "$out"
			read -r c l v < <(perf_result "$out") || { note "  round $r $s: dnsperf failed, see $out"; continue; }
			QPS_R[$s]+="$v "
			LOST[$s]=$((${LOST[$s]-0} + l))
			note "  round $r $s: $v qps, $c completed, $l lost"
		done
	done
}

figure2() {
	local r s out c l v t0 t1 us
	note "figure 2: CPU per query at dnsperf -Q $QPS for $SECS s, $ROUNDS rounds"
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in "${running[@]}"; do
			out=$TMP/fig2-$s-$r.txt
			t0=$(cpu_ticks "${PID[$s]}")
			perf "$s" "$out" -Q "$QPS"
			read -r c l v < <(perf_result "$out") || { note "  round $r $s: dnsperf failed, see $out"; continue; }
			t1=$(cpu_ticks "${PID[$s]}")
			us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v c="$c" 'BEGIN { printf "%.3f", c ? d / hz * 1e6 / c : 0 }')
			CPU_R[$s]+="$us "
			note "  round $r $s: $c answered at $v qps, $((t1 - t0)) ticks, $us us/query"
		done
	done
}

figure3() {
	local s qname qtype rdata
	note "figure 3: loading $BIG_RECORDS records"
	"$HERE/gen-bench-zone.sh" big "$BIG_ZONE" "$BIG_RECORDS" >"$TMP/$BIG_ZONE.zone"
	read -r qname _ _ qtype rdata < <(tail -n 1 "$TMP/$BIG_ZONE.zone")
	for s in $SERVERS; do
		case $s in meridian | knot | nsd) ;; *) continue ;; esac
		have_server "$s" || continue
		if start "big-$s" "$s" "$BIG_ZONE" "$TMP/$BIG_ZONE.zone" "$qname" "$qtype" "$rdata" "$LOAD_TIMEOUT"; then
			read -r "MEM_RSS[$s]" "MEM_PSS[$s]" < <(mem_kib "${PID[big-$s]}")
			LOAD[$s]=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
			note "  $s: ${LOAD[$s]} s to answer $qname $qtype, RSS $((MEM_RSS[$s] / 1024)) MiB, PSS $((MEM_PSS[$s] / 1024)) MiB"
			stop "big-$s"
		else
			note "  $s: did not load the zone"
		fi
	done
}

# ------------------------------------------------------------------- report ----

versions() {
	local s out=()
	for s in "${running[@]}"; do
		case $s in
		meridian) out+=("meridian $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo '?')") ;;
		nsd) out+=("$(nsd -v 2>&1 | head -n 1 | sed 's/ version//')") ;;
		knot) out+=("$(knotd -V 2>&1 | sed 's/.*version /knot /')") ;;
		gdnsd) out+=("$(gdnsd -V 2>&1 | sed -n 's/^gdnsd version /gdnsd /p' | head -n 1)") ;;
		esac
	done
	local IFS=,
	local all="${out[*]}"
	echo "${all//,/, }"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# best LIST_OF "server value" lines, highest (max) or lowest (min) value among peers
best_peer() {
	local mode=$1
	awk -v m="$mode" '$1 != "meridian" && $2 != "" && $2 != "nan" {
		if (b == "" || (m == "max" ? $2 > v : $2 < v)) { b = $1; v = $2 } }
		END { if (b != "") print b, v }'
}

report() {
	local s r best bv
	echo
	echo "meridian benchmark -- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)"
	echo "zone: $NAMES names; $NQUERIES queries, mix (percent) $MIX; load average at start $LOADAVG"
	echo "servers: $(versions)"
	echo
	echo "Figure 1: saturated throughput (dnsperf -c 1 -T 1, ${SECS}s x $ROUNDS rounds, median)"
	printf '  %-9s %10s %8s %15s\n' server qps lost meridian/peer
	declare -A MQ MC
	for s in "${running[@]}"; do MQ[$s]=$(median "${QPS_R[$s]-}"); done
	for s in "${running[@]}"; do
		r="-"; [ "$s" != meridian ] && [ -n "${MQ[meridian]-}" ] && r=$(ratio "${MQ[meridian]}" "${MQ[$s]}")
		printf '  %-9s %10.0f %8d %15s\n' "$s" "${MQ[$s]}" "${LOST[$s]-0}" "$r"
	done
	read -r best bv < <(for s in "${running[@]}"; do echo "$s ${MQ[$s]}"; done | best_peer max) || true
	target_line ">= 1.00" "${MQ[meridian]-}" "$best" "$bv" ge
	for s in "${running[@]}"; do
		[ "${LOST[$s]-0}" = 0 ] || echo "  note: $s lost ${LOST[$s]} queries; BENCHMARKING.md asks for zero lost"
	done
	echo
	echo "Figure 2: CPU per query at dnsperf -Q $QPS (${SECS}s x $ROUNDS rounds, median; lower is better)"
	printf '  %-9s %10s %15s\n' server us/query meridian/peer
	for s in "${running[@]}"; do MC[$s]=$(median "${CPU_R[$s]-}"); done
	for s in "${running[@]}"; do
		r="-"; [ "$s" != meridian ] && [ -n "${MC[meridian]-}" ] && r=$(ratio "${MC[meridian]}" "${MC[$s]}")
		printf '  %-9s %10.3f %15s\n' "$s" "${MC[$s]}" "$r"
	done
	read -r best bv < <(for s in "${running[@]}"; do echo "$s ${MC[$s]}"; done | best_peer min) || true
	target_line "<= 0.90" "${MC[meridian]-}" "$best" "$bv" le
	if [ "$BIG" != 0 ]; then
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
	fi
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
figure1
figure2
for s in "${running[@]}"; do stop "$s"; done
[ "$BIG" != 0 ] && figure3
report
