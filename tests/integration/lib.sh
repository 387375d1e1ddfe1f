# lib.sh -- helpers for the dig-based integration tests: a private meridiand, queries, assertions.
# shellcheck shell=bash
#
# A test script sources this file, then:
#   write_config 'zones = { ... }' ...   new folder $DIR holding $CONF, listening on 127.0.0.1:$PORT
#   cat >"$DIR/example.com.zone" ...      its zones
#   start_meridian "$CONF"                background server, waits for its "ready" line
#   ask www.example.com A                 dig; the reply is parsed into RCODE, FLAGS, ANSWER, ...
#   expect_rcode NOERROR "description"    prints "ok - ..." or "not ok - ..." (with the dig output)
#   finish                                the last line of every script
# Whatever happens (failed assertion, error, signal, timeout), the EXIT trap stops the server, removes
# the temp folders and prints "N passed, N failed", which scripts/run-tests.sh sums. A script that
# stops before finish counts one more failure.
#
# Needs BUILD_DIR (and optionally MERIDIAND, FREEPORT) in the environment: scripts/run-tests.sh sets them.

set -u
set -o pipefail

: "${BUILD_DIR:?BUILD_DIR is not set: run tests through scripts/run-tests.sh BUILD_DIR}"
MERIDIAND=${MERIDIAND:-$BUILD_DIR/meridiand}
FREEPORT=${FREEPORT:-$BUILD_DIR/tests/freeport}

T_PASSED=0
T_FAILED=0
T_DONE=0
T_CONFIGS=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/meridian-test.XXXXXX") || exit 1
T_FDS=()
T_PIDS=() # helper processes (backends) stopped at exit
MPID=""  # the running meridiand, or empty
MRC=""   # exit status of the last meridiand stopped
MLOG=""  # its log (stdout and stderr)
DIR=""   # folder of the last write_config
CONF=""  # config written by the last write_config
PORT=""  # its port

t_cleanup()
{
	local rc=$?
	local fd

	trap - TERM INT
	for fd in "${T_FDS[@]}"; do
		exec {fd}>&- 2>/dev/null
	done
	stop_meridian
	for fd in "${T_PIDS[@]}"; do
		kill -TERM "$fd" 2>/dev/null && wait "$fd" 2>/dev/null
	done
	if [ "$T_DONE" != 1 ]; then
		not_ok "$(basename "$0") ran to the end (it stopped early with status $rc)"
	fi
	rm -rf "$T_TMP"
	echo "$T_PASSED passed, $T_FAILED failed"
	# A bare exit in an EXIT trap keeps the status from before the trap: say it.
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}
trap t_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# finish: the last line of a test script.
finish()
{
	T_DONE=1
	exit
}

# ---- results ----------------------------------------------------------------------------------------

ok()
{
	T_PASSED=$((T_PASSED + 1))
	echo "ok - $1"
}

# not_ok DESCRIPTION [DETAIL]: DETAIL (and, when set, the last dig output) is printed as # lines.
not_ok()
{
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $1"
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2" | sed 's/^/#   /'
	fi
	if [ -n "${ASKED:-}" ]; then
		echo "#   last query: dig ${ASKED}"
		printf '%s\n' "${OUT:-}" | sed 's/^/#   | /'
	fi
}

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check()
{
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "failed: $*"
	fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2"$'\n'"got:      $3"
	fi
}

# ---- the server -------------------------------------------------------------------------------------

# have_key KEY LINE...: true when one of the Lua lines assigns KEY.
have_key()
{
	local key=$1 line
	shift
	for line in "$@"; do
		case $line in
		"$key "* | "$key="*) return 0 ;;
		esac
	done
	return 1
}

# zones_lua NAME...: a Lua zones table serving NAME from NAME.zone for each NAME.
zones_lua()
{
	local z sep="" s="zones = {"
	for z in "$@"; do
		s+="$sep { name = \"$z\", file = \"$z.zone\" }"
		sep=","
	done
	echo "$s }"
}

# write_config [LUA_LINE...]: makes a new folder $DIR with $CONF listening on 127.0.0.1:$PORT, a port
# free for UDP and TCP. serial = 1, one listener and workers = 1 are written unless a line sets them.
write_config()
{
	T_CONFIGS=$((T_CONFIGS + 1))
	DIR=$T_TMP/c$T_CONFIGS
	mkdir -p "$DIR"
	PORT=$("$FREEPORT") || {
		not_ok "freeport found a free port"
		exit 1
	}
	CONF=$DIR/meridian.conf
	{
		echo "-- written by $(basename "$0")"
		have_key serial "$@" || echo 'serial = 1'
		have_key listen "$@" || echo "listen = { \"127.0.0.1:$PORT\" }"
		have_key workers "$@" || echo 'workers = 1'
		printf '%s\n' "$@"
	} >"$CONF"
}

# start_meridian CONFIG [LOG]: starts meridiand in the background and waits (20 s at most) for its
# "ready" line. Returns 1, after printing the log, when it exits or never gets ready.
start_meridian()
{
	local conf=$1 i
	MLOG=${2:-$(dirname "$conf")/meridiand.log}
	stop_meridian
	if [ ! -x "$MERIDIAND" ]; then
		echo "# $MERIDIAND is missing: build it first"
		return 1
	fi
	# Background jobs of a script ignore SIGINT: give meridiand the default back so SIGINT can be tested.
	: >"$MLOG"
	env --default-signal=INT,QUIT "$MERIDIAND" -c "$conf" >"$MLOG" 2>&1 &
	MPID=$!
	for ((i = 0; i < 400; i++)); do
		if grep -qw ready "$MLOG"; then
			return 0
		fi
		if ! kill -0 "$MPID" 2>/dev/null; then
			wait "$MPID"
			MRC=$?
			MPID=""
			echo "# meridiand exited with status $MRC before it was ready; its log:"
			sed 's/^/#   /' "$MLOG"
			return 1
		fi
		sleep 0.05
	done
	echo "# meridiand was not ready after 20 s; its log:"
	sed 's/^/#   /' "$MLOG"
	stop_meridian
	return 1
}

# start_or_bail CONFIG: start_meridian, or record a failure and end the script (nothing else can run).
start_or_bail()
{
	if start_meridian "$1"; then
		ok "meridiand started with $(basename "$1")"
	else
		not_ok "meridiand started with $(basename "$1")"
		exit 1
	fi
}

# stop_meridian: SIGTERM, 5 s grace, then SIGKILL. Sets MRC to its exit status (137 when killed).
stop_meridian()
{
	local i
	[ -n "$MPID" ] || return 0
	kill -TERM "$MPID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$MPID" 2>/dev/null
	wait "$MPID" 2>/dev/null
	MRC=$?
	MPID=""
}

# alive: true while the started meridiand runs.
alive()
{
	[ -n "$MPID" ] && kill -0 "$MPID" 2>/dev/null
}

# log_count PATTERN: how many lines of the server log match the extended regex PATTERN.
log_count()
{
	grep -cE -- "$1" "$MLOG" 2>/dev/null || true
}

# wait_log PATTERN COUNT [SECONDS]: waits until more than COUNT log lines match PATTERN.
wait_log()
{
	local i n=$((${3:-5} * 20))
	for ((i = 0; i < n; i++)); do
		[ "$(log_count "$1")" -gt "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# write_serial_zone SERIAL [LINE...]: $DIR/example.com.zone with an SOA of that serial, an NS with
# its address, then each LINE (records, $INCLUDE; an empty one is left out).
write_serial_zone()
{
	local line
	{
		echo '$ORIGIN example.com.'
		echo '$TTL 3600'
		echo "@     SOA   ns1 hostmaster $1 7200 3600 1209600 300"
		echo '      NS    ns1'
		echo 'ns1   A     192.0.2.53'
		shift
		for line in "$@"; do
			[ -z "$line" ] || echo "$line"
		done
	} >"$DIR/example.com.zone"
}

# write_basic_zone: write_serial_zone with serial 2024010101 and www A 192.0.2.1; a test that
# needs more appends to it.
write_basic_zone()
{
	write_serial_zone 2024010101 'www   A     192.0.2.1'
}

# write_mixed_zone DIR SERIAL WWW_ADDR: DIR/example.com.zone with one of each kind of name: CNAME chains
# (one dangling), a wildcard, an empty non-terminal, a delegation with glue, an RRset too big for 512
# octets (big TXT).
write_mixed_zone()
{
	local dir=$1 serial=$2 www=$3
	cat >"$dir/example.com.zone" <<EOF
\$ORIGIN example.com.
\$TTL 3600
@       IN SOA ns1 hostmaster $serial 7200 900 1209600 300
@       IN NS  ns1
@       IN MX  10 mail
ns1     IN A   192.0.2.1
mail    IN A   192.0.2.25
www     IN A   $www
www     IN AAAA 2001:db8::10
alias   IN CNAME www
chain   IN CNAME alias
dangling IN CNAME nothere
*.wild  IN A   192.0.2.99
a.b.ent IN A   192.0.2.50
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.53
EOF
	for i in $(seq 1 12); do
		echo "big IN TXT \"$(printf 'text %02d %.0s' "$i" {1..8})\"" >>"$dir/example.com.zone"
	done
}

# ---- dig --------------------------------------------------------------------------------------------

# q DIG_ARGS...: dig against the server, no recursion, hex not split, one try of 2 s.
q()
{
	dig @127.0.0.1 -p "$PORT" +norec +nosplit +time=2 +tries=1 "$@"
}

# ask DIG_ARGS...: runs q and parses the (first) reply into
#   RCODE (NOERROR, ..., or NONE when no reply), OPCODE, FLAGS (sorted, space separated),
#   NQUESTION NANSWER NAUTHORITY NADDITIONAL (header counts), QUESTION, ANSWER, AUTHORITY,
#   ADDITIONAL (records, whitespace squeezed to one space, one per line), EDNS (the OPT
#   pseudosection lines, squeezed; empty when the reply had no OPT), HAS_OPT (0/1).
ask()
{
	ASKED="-p $PORT +norec $*"
	OUT=$(q "$@" 2>&1)
	parse_dig "$OUT"
}

squeeze()
{
	sed -E 's/[[:space:]]+/ /g; s/ $//'
}

parse_dig()
{
	local line sec="" q="" an="" au="" ad="" opt="" n=0
	RCODE=NONE OPCODE="" FLAGS="" HAS_OPT=0
	NQUESTION="" NANSWER="" NAUTHORITY="" NADDITIONAL=""
	while IFS= read -r line; do
		case $line in
		';; ->>HEADER<<-'*)
			n=$((n + 1))
			[ "$n" -gt 1 ] && break
			RCODE=${line#*status: }
			RCODE=${RCODE%%,*}
			OPCODE=${line#*opcode: }
			OPCODE=${OPCODE%%,*}
			;;
		';; flags:'*)
			FLAGS=${line#;; flags:}
			FLAGS=$(printf '%s\n' ${FLAGS%%;*} | sort | tr '\n' ' ')
			FLAGS=${FLAGS% }
			NQUESTION=$(sed -nE 's/.*QUERY: ([0-9]+).*/\1/p' <<<"$line")
			NANSWER=$(sed -nE 's/.*ANSWER: ([0-9]+).*/\1/p' <<<"$line")
			NAUTHORITY=$(sed -nE 's/.*AUTHORITY: ([0-9]+).*/\1/p' <<<"$line")
			NADDITIONAL=$(sed -nE 's/.*ADDITIONAL: ([0-9]+).*/\1/p' <<<"$line")
			;;
		';; OPT PSEUDOSECTION:') sec=opt HAS_OPT=1 ;;
		';; QUESTION SECTION:') sec=q ;;
		';; ANSWER SECTION:') sec=an ;;
		';; AUTHORITY SECTION:') sec=au ;;
		';; ADDITIONAL SECTION:') sec=ad ;;
		'' | ';; '*) sec="" ;;
		*)
			case $sec in
			opt) opt+=$line$'\n' ;;
			q) q+=${line#;}$'\n' ;;
			an) an+=$line$'\n' ;;
			au) au+=$line$'\n' ;;
			ad) ad+=$line$'\n' ;;
			esac
			;;
		esac
	done <<<"$1"
	EDNS=$(printf '%s' "$opt" | squeeze)
	QUESTION=$(printf '%s' "$q" | squeeze)
	ANSWER=$(printf '%s' "$an" | squeeze)
	AUTHORITY=$(printf '%s' "$au" | squeeze)
	ADDITIONAL=$(printf '%s' "$ad" | squeeze)
}

# expect_rcode RCODE DESCRIPTION
expect_rcode()
{
	if [ "$RCODE" = "$1" ]; then
		ok "$2"
	else
		not_ok "$2" "expected rcode $1, got $RCODE"
	fi
}

# expect_flags "FLAG..." DESCRIPTION: the header flags are exactly these (order does not matter).
expect_flags()
{
	local want
	want=$(printf '%s\n' $1 | sort | tr '\n' ' ')
	want=${want% }
	if [ "$FLAGS" = "$want" ]; then
		ok "$2"
	else
		not_ok "$2" "expected flags: $want"$'\n'"got flags:      $FLAGS"
	fi
}

has_flag()
{
	case " $FLAGS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# expect_flag FLAG DESCRIPTION / expect_no_flag FLAG DESCRIPTION
expect_flag()
{
	if has_flag "$1"; then ok "$2"; else not_ok "$2" "flag $1 is not set (flags: $FLAGS)"; fi
}

expect_no_flag()
{
	if has_flag "$1"; then not_ok "$2" "flag $1 is set (flags: $FLAGS)"; else ok "$2"; fi
}

# expect_section ANSWER|AUTHORITY|ADDITIONAL|QUESTION DESCRIPTION <<EOF: the section holds exactly these
# records (one per line, in dig's presentation, any whitespace, any order). An empty here-document
# means an empty section.
expect_section()
{
	local got want
	got=$(printf '%s\n' "${!1}" | sed '/^$/d' | sort)
	want=$(squeeze | sed '/^$/d' | sort)
	if [ "$got" = "$want" ]; then
		ok "$2"
	else
		not_ok "$2" "expected $1 section:"$'\n'"${want:-  (empty)}"$'\n'"got:"$'\n'"${got:-  (empty)}"
	fi
}

# expect_in SECTION REGEX DESCRIPTION: some line of the section (or of EDNS, or OUT) matches REGEX.
expect_in()
{
	# A here-string, not printf | grep -q: grep leaving at the first match would make printf's next
	# line die of SIGPIPE, and pipefail would turn that into a failure (a flake seen in test_geo).
	if grep -qE -- "$2" <<<"${!1}"; then
		ok "$3"
	else
		not_ok "$3" "no line of $1 matches: $2"
	fi
}

expect_not_in()
{
	if grep -qE -- "$2" <<<"${!1}"; then
		not_ok "$3" "a line of $1 matches: $2"
	else
		ok "$3"
	fi
}

# expect_count SECTION N DESCRIPTION: the header count of SECTION (NANSWER, ...) is N.
expect_count()
{
	if [ "${!1}" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "expected $1 = $2, got ${!1}"
	fi
}

# ---- raw packets ------------------------------------------------------------------------------------
# Messages are written as hex strings (spaces allowed); replies come back the same way, lowercase and
# without spaces, in REPLY.

# hexname NAME: a domain name in wire form, uncompressed.
hexname()
{
	local label out="" IFS=.
	for label in $1; do
		[ -n "$label" ] || continue
		out+=$(printf '%02x' "${#label}")
		out+=$(printf '%s' "$label" | od -An -tx1 -v | tr -d ' \n')
	done
	echo "${out}00"
}

# header ID FLAGS QD AN NS AR: the 12-byte header; ID and FLAGS in hex, counts in decimal.
header()
{
	printf '%04x%04x%04x%04x%04x%04x' "0x$1" "0x$2" "$3" "$4" "$5" "$6"
}

# question NAME TYPE CLASS: TYPE and CLASS in decimal.
question()
{
	printf '%s%04x%04x' "$(hexname "$1")" "$2" "$3"
}

# opt_rr [PAYLOAD [VERSION [FLAGS_HEX]]]: an OPT record with empty RDATA.
opt_rr()
{
	printf '000029%04x00%02x%04x0000' "${1:-1232}" "${2:-0}" "0x${3:-0}"
}

# query ID NAME TYPE: a plain query, RD=0, no EDNS.
query()
{
	printf '%s%s' "$(header "$1" 0000 1 0 0 0)" "$(question "$2" "$3" 1)"
}

t_bytes()
{
	local hex=${1//[[:space:]]/}
	printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")"
}

# raw_udp HEX: sends one datagram, waits up to 1 s for one reply into REPLY. False when none came.
# The bytes go through a file and one dd write: bash's printf flushes at every 0x0a byte, which
# would split the message into several datagrams.
raw_udp()
{
	local fd f=$DIR/datagram
	REPLY="" ASKED=""
	t_bytes "$1" >"$f"
	exec {fd}<>"/dev/udp/127.0.0.1/$PORT" || return 1
	dd if="$f" bs=65535 count=1 status=none >&"$fd"
	REPLY=$(timeout 1 dd bs=65535 count=1 status=none <&"$fd" | od -An -tx1 -v | tr -d ' \n')
	exec {fd}>&-
	[ -n "$REPLY" ]
}

# Fields of a raw reply in $REPLY (or $2).
r_id() { local r=${1:-$REPLY}; echo "${r:0:4}"; }
r_flags() { local r=${1:-$REPLY}; echo "$((0x${r:4:4}))"; }
r_rcode() { echo "$(($(r_flags "${1:-$REPLY}") & 15))"; }
r_opcode() { echo "$((($(r_flags "${1:-$REPLY}") >> 11) & 15))"; }
r_qr() { echo "$((($(r_flags "${1:-$REPLY}") >> 15) & 1))"; }
r_count() { local r=${2:-$REPLY} o=$((8 + 4 * $1)); echo "$((0x${r:o:4}))"; }

# tcp_open: connects to the server; the fd is in TFD (closed by the EXIT trap at the latest).
tcp_open()
{
	exec {TFD}<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	T_FDS+=("$TFD")
}

# tcp_close FD
tcp_close()
{
	local fd=$1
	exec {fd}>&- 2>/dev/null
}

# tcp_send FD HEX...: writes each message with its two-byte length prefix, all in one write.
tcp_send()
{
	local fd=$1 m all=""
	shift
	ASKED=""
	for m in "$@"; do
		m=${m//[[:space:]]/}
		all+=$(printf '%04x' $((${#m} / 2)))$m
	done
	t_bytes "$all" >&"$fd"
}

# tcp_write FD HEX: writes bytes as they are (no length prefix).
tcp_write()
{
	t_bytes "$2" >&"$1"
}

# t_read FD N SECONDS: reads exactly N bytes as hex into T_DATA. Status 0 ok, 1 EOF/reset, 2 timeout.
t_read()
{
	local f=$T_TMP/read.$$ rc
	timeout "$3" dd bs="$2" count=1 iflag=fullblock status=none of="$f" <&"$1" 2>/dev/null
	rc=$?
	T_DATA=$(od -An -tx1 -v "$f" | tr -d ' \n')
	rm -f "$f"
	if [ "${#T_DATA}" -eq $((2 * $2)) ]; then
		return 0
	fi
	[ "$rc" = 124 ] && return 2
	return 1
}

# tcp_recv FD [SECONDS]: reads one length-framed message into REPLY. Status as t_read.
tcp_recv()
{
	REPLY=""
	t_read "$1" 2 "${2:-3}" || return
	t_read "$1" $((0x$T_DATA)) "${2:-3}" || return
	REPLY=$T_DATA
}

# tcp_closed FD SECONDS: true when the server closes the connection within SECONDS (no data first).
tcp_closed()
{
	t_read "$1" 1 "$2"
	[ $? = 1 ] && [ -z "$T_DATA" ]
}

# lower_owners: lowercases the owner name (first field) of each record line on stdin.
lower_owners()
{
	awk '{ $1 = tolower($1); print }'
}
