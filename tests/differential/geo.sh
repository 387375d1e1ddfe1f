#!/usr/bin/env bash
# geo.sh -- geo differential test: the same geo routing (www.example.com, policy failover per region)
# served by meridiand, by gdnsd's plugin_geoip and by Knot DNS's geoip module from one MaxMind-format
# database, every client of geo/clients.txt sent to the three with dig, the answers compared.
#
# usage: tests/differential/geo.sh
#   BUILD_DIR (default: build) holds meridiand and tests/freeport. SHOW=1 prints every answer.
#
# The database is written at test time into a temporary folder by
# `scripts/gen-geo-db.pl --table geo/networks.txt` (GeoIP2-City shape: IPv6 tree, IPv4 under ::/96 with
# MaxMind's aliases of it at 6to4 2002::/16 and Teredo 2001::/32, continent, country, subdivisions,
# location); nothing generated is committed. The deployment is
# geo/meridian.conf.in, geo/gdnsd.config.in and geo/knot.conf.in (with geo/knot-geo.yaml and
# geo/knot-office.yaml), stated once more as data in geo/regions.txt, from which geo/model.py works
# out what each client should get without asking any server.
#
# Per client (geo/clients.txt; VIA ecs: dig +subnet=CLIENT, VIA source: dig -b CLIENT):
#   - meridian answers the datacenter the model gives (rcode NOERROR, AA, both of its addresses);
#   - gdnsd and Knot give the same answer section as meridian (rcode, AA, records with TTLs), unless the
#     client's line allows the difference with differs(answer-PEER) and says why (a peer that reads the
#     client's address another way: Teredo, NAT64); the peer's answer is then printed, never failed;
#   - with ECS: meridian's scope is honest, at least the model's shortest honest scope (every address
#     within the scope gets the same answer; RFC 7871 7.3), and equal to each peer's scope unless the
#     client's line allows the difference with differs(scope-PEER) and says why; the peers' scopes
#     are printed and their honesty noted, never failed.
# Every region kind is covered for all three servers: Knot has no "nets" of its own in geodb mode,
# so a second instance of its module in subnet mode, run first, answers the office nets.
# A peer that is not installed (gdnsd, knotd, or Knot's geoip module: knot-module-geoip) gives
# "ok - ... # skip" lines instead of its comparisons. Prints one ok / not ok line per comparison,
# then "N passed, N failed"; exit status 1 when anything failed.
set -u
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GEO=$HERE/geo
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MERIDIAND=${MERIDIAND:-$BUILD_DIR/meridiand}
FREEPORT=${FREEPORT:-$BUILD_DIR/tests/freeport}
PEERS=(gdnsd knot)

declare -A PORT SKIP DOWN DC_OF
TMP_NAME=meridian-geo-diff # read by lib.sh
. "$HERE/lib.sh"

# ---- servers ----------------------------------------------------------------------------------------

# new_port: a free port none of the servers has yet.
new_port()
{
	local p i
	for ((i = 0; i < 20; i++)); do
		p=$("$FREEPORT") || return 1
		[[ " ${PORT[*]-} " == *" $p "* ]] || {
			echo "$p"
			return 0
		}
	done
	return 1
}

# render TEMPLATE OUT PORT DIR: a config from geo/TEMPLATE.
render()
{
	sed -e "s|@PORT@|$3|g" -e "s|@DIR@|$4|g" -e "s|@HERE@|$GEO|g" -e "s|@GEODB@|$TMP/geo.mmdb|g" \
		"$GEO/$1" >"$2"
}

start_meridian()
{
	local d=$TMP/meridian
	mkdir -p "$d"
	PORT[meridian]=$(new_port) || bail "a free port for meridian"
	render meridian.conf.in "$d/meridian.conf" "${PORT[meridian]}" "$GEO"
	"$MERIDIAND" -c "$d/meridian.conf" >"$d/meridiand.log" 2>&1 &
	PIDS+=($!)
	wait_ready meridian "${PIDS[-1]}" "$d/meridiand.log"
}

# gdnsd reads DIR/config and DIR/zones/<zone name>.
start_gdnsd()
{
	local d=$TMP/gdnsd
	if ! command -v gdnsd >/dev/null; then
		SKIP[gdnsd]="gdnsd is not installed (scripts/deps.sh installs it)"
		return 0
	fi
	mkdir -p "$d/zones" "$d/run" "$d/state"
	PORT[gdnsd]=$(new_port) || bail "a free port for gdnsd"
	render gdnsd.config.in "$d/config" "${PORT[gdnsd]}" "$d"
	cp "$GEO/gdnsd.zone" "$d/zones/example.com"
	gdnsd -c "$d" start >"$d/gdnsd.log" 2>&1 &
	PIDS+=($!)
	wait_soa gdnsd "${PIDS[-1]}" "${PORT[gdnsd]}" "$d/gdnsd.log" example.com || DOWN[gdnsd]=1
}

start_knot()
{
	local d=$TMP/knot
	if ! command -v knotd >/dev/null || ! command -v knotc >/dev/null; then
		SKIP[knot]="knotd is not installed (scripts/deps.sh installs knot)"
		return 0
	fi
	mkdir -p "$d"
	PORT[knot]=$(new_port) || bail "a free port for Knot"
	render knot.conf.in "$d/knot.conf" "${PORT[knot]}" "$d"
	if ! knotc -c "$d/knot.conf" conf-check >"$d/check.log" 2>&1; then
		if grep -q "unknown module 'mod-geoip'" "$d/check.log"; then
			SKIP[knot]="Knot's geoip module is not installed (scripts/deps.sh installs knot-module-geoip)"
		else
			not_ok "knot.conf is valid" "$d/check.log"
			DOWN[knot]=1
		fi
		return 0
	fi
	knotd -c "$d/knot.conf" >"$d/knotd.log" 2>&1 &
	PIDS+=($!)
	wait_soa knot "${PIDS[-1]}" "${PORT[knot]}" "$d/knotd.log" example.com || DOWN[knot]=1
}

# ---- asking -----------------------------------------------------------------------------------------

# ask SERVER VIA CLIENT: the normalized answer to www.example.com A, as "field: value" lines:
# rcode, flags (aa), the answer records (names lowercased, TTLs kept), sorted; then "scope: N" (the
# ECS scope of the reply, "none" without an ECS option).
ask()
{
	local how
	if [ "$2" = ecs ]; then how=+subnet=$3; else how="-b $3"; fi
	# shellcheck disable=SC2086 # $how is one option, or -b and its address
	dig @127.0.0.1 -p "${PORT[$1]}" +norec +nocookie +time=2 +tries=1 $how www.example.com A 2>&1 | awk '
	function squeeze(s) { gsub(/[ \t]+/, " ", s); sub(/ $/, "", s); return s }
	BEGIN { rcode = "NONE (no reply)"; flags = ""; scope = "none"; sec = "" }
	/^;; ->>HEADER<<-/ { rcode = $0; sub(/.*status: /, "", rcode); sub(/,.*/, "", rcode); next }
	/^;; flags:/ { f = $0; sub(/^;; flags:/, "", f); sub(/;.*/, "", f); flags = (f ~ /(^| )aa( |$)/) ? " aa" : ""; next }
	/^; CLIENT-SUBNET: / { scope = $NF; sub(/.*\//, "", scope); next }
	/^;; ANSWER SECTION:/ { sec = "answer"; next }
	/^$/ || /^;/ { sec = ""; next }
	sec == "answer" { print "answer: " tolower(squeeze($0)) }
	END {
		print "rcode: " rcode
		print "flags:" (flags == "" ? " (none)" : flags)
		print "scope: " scope
	}' | sort
}

# addresses ANSWER: the A addresses of a normalized answer, sorted, on one line.
addresses()
{
	awk '$1 == "answer:" && $5 == "a" { print $6 }' <<<"$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

# describe ANSWER: its datacenters and addresses, e.g. "ams (192.0.2.10 192.0.2.11)".
describe()
{
	local a dcs="" list
	list=$(addresses "$1")
	for a in $list; do
		[[ " $dcs " == *" ${DC_OF[$a]:-?} "* ]] || dcs+=" ${DC_OF[$a]:-?}"
	done
	if [ -z "$list" ]; then
		echo "no A ($(sed -n 's/^rcode: //p' <<<"$1"))"
	else
		echo "${dcs# } ($list)"
	fi
}

# ---- the run ----------------------------------------------------------------------------------------

command -v dig >/dev/null || bail "dig is installed (scripts/deps.sh installs it)"
command -v mmdblookup >/dev/null || bail "mmdblookup is installed (scripts/deps.sh installs mmdb-bin)"
command -v python3 >/dev/null || bail "python3 is installed (scripts/deps.sh installs it)"
[ -x "$FREEPORT" ] || bail "$FREEPORT exists (build it first: make)"
[ -x "$MERIDIAND" ] || bail "$MERIDIAND exists (build it first: make)"

perl "$ROOT/scripts/gen-geo-db.pl" --table "$GEO/networks.txt" "$TMP/geo.mmdb" >"$TMP/gen.log" 2>&1 ||
	bail "scripts/gen-geo-db.pl --table writes the database (needs libmaxmind-db-writer-perl)" "$TMP/gen.log"

# The clients: label, via, client, allowed differences (comma list), reason.
LABELS=()
declare -A VIA CLIENT DIFFERS REASON WANT_DC WANT_SCOPE WANT_ADDRS
while IFS= read -r line || [ -n "$line" ]; do
	case $line in '' | '#'*) continue ;; esac
	read -r label via client _ <<<"${line%%#*}"
	if [ -z "${client:-}" ] || [[ $via != ecs && $via != source ]]; then
		bail "geo/clients.txt: expected LABEL ecs|source CLIENT, got: $line"
	fi
	[ -z "${VIA[$label]:-}" ] || bail "geo/clients.txt: label $label is used twice"
	LABELS+=("$label")
	VIA[$label]=$via CLIENT[$label]=$client DIFFERS[$label]="" REASON[$label]=""
	if [[ $line == *'# differs('* ]]; then
		d=${line#*# differs(}
		REASON[$label]=${d#*): }
		d=${d%%)*}
		DIFFERS[$label]=,$d,
		for d in ${d//,/ }; do
			[[ $d =~ ^(scope|answer)-(gdnsd|knot)$ ]] ||
				bail "geo/clients.txt: $label: differs($d): expected scope-gdnsd, scope-knot, answer-gdnsd or answer-knot"
		done
	fi
done <"$GEO/clients.txt"

for label in "${LABELS[@]}"; do
	c=${CLIENT[$label]}
	if [[ $c != */* ]]; then
		if [[ $c == *:* ]]; then c+=/128; else c+=/32; fi
	fi
	echo "$label $c"
done | python3 "$GEO/model.py" "$TMP/geo.mmdb" "$GEO/networks.txt" "$GEO/regions.txt" >"$TMP/model" 2>"$TMP/model.log" ||
	bail "geo/model.py works out every client's answer" "$TMP/model.log"
while read -r label dc scope addrs; do
	WANT_DC[$label]=$dc WANT_SCOPE[$label]=$scope
	WANT_ADDRS[$label]=$(tr ' ' '\n' <<<"$addrs" | sort | tr '\n' ' ' | sed 's/ $//')
	for a in $addrs; do DC_OF[$a]=$dc; done
done <"$TMP/model"

start_meridian
start_gdnsd
start_knot
echo "# meridian on port ${PORT[meridian]}; gdnsd: ${SKIP[gdnsd]:-${PORT[gdnsd]:-not started}}; knot: ${SKIP[knot]:-${PORT[knot]:-not started}}"

declare -A GOT
for label in "${LABELS[@]}"; do
	via=${VIA[$label]} client=${CLIENT[$label]}
	what="$label ($([ "$via" = ecs ] && echo "ECS $client" || echo "from $client"))"
	GOT[meridian]=$(ask meridian "$via" "$client")
	m_scope=$(sed -n 's/^scope: //p' <<<"${GOT[meridian]}")
	m_answer=$(grep -v '^scope:' <<<"${GOT[meridian]}")
	[ "${SHOW:-0}" = 1 ] && sed 's/^/#   meridian /' <<<"${GOT[meridian]}"

	# meridian against the model
	want=${WANT_ADDRS[$label]}
	if [ "$(addresses "$m_answer")" = "$want" ] && grep -qx 'rcode: NOERROR' <<<"$m_answer" &&
		grep -qx 'flags: aa' <<<"$m_answer"; then
		ok "$what: meridian answers ${WANT_DC[$label]} ($want)"
	else
		not_ok "$what: meridian answers ${WANT_DC[$label]} ($want)"
		sed 's/^/#   meridian: /' <<<"$m_answer"
	fi

	scopes="meridian /$m_scope"
	if [ "$via" = ecs ]; then
		if [[ $m_scope =~ ^[0-9]+$ ]] && [ "$m_scope" -ge "${WANT_SCOPE[$label]}" ]; then
			ok "$what: meridian's scope /$m_scope is honest (the shortest honest scope is /${WANT_SCOPE[$label]})"
		else
			not_ok "$what: meridian's scope /$m_scope is honest (the shortest honest scope is /${WANT_SCOPE[$label]}: a resolver would give this answer to clients that should get another)"
		fi
	fi

	for peer in "${PEERS[@]}"; do
		if [ -n "${SKIP[$peer]:-}" ]; then
			ok "$what: answer meridian = $peer # skip ${SKIP[$peer]}"
			[ "$via" = ecs ] && ok "$what: scope meridian = $peer # skip ${SKIP[$peer]}"
			continue
		fi
		[ -n "${DOWN[$peer]:-}" ] && continue
		GOT[$peer]=$(ask "$peer" "$via" "$client")
		[ "${SHOW:-0}" = 1 ] && sed "s/^/#   $peer /" <<<"${GOT[$peer]}"
		p_scope=$(sed -n 's/^scope: //p' <<<"${GOT[$peer]}")
		p_answer=$(grep -v '^scope:' <<<"${GOT[$peer]}")
		if [ "$p_answer" = "$m_answer" ]; then
			ok "$what: answer meridian = $peer: $(describe "$m_answer")"
		elif [[ ${DIFFERS[$label]} == *",answer-$peer,"* ]]; then
			ok "$what: answer meridian $(describe "$m_answer"), $peer $(describe "$p_answer") (allowed: ${REASON[$label]})"
		else
			not_ok "$what: answer meridian = $peer: meridian $(describe "$m_answer"), $peer $(describe "$p_answer")"
			diff -u --label meridian --label "$peer" <(echo "$m_answer") <(echo "$p_answer") | tail -n +3 | sed 's/^/#   /'
		fi
		[ "$via" = ecs ] || continue

		honest=""
		if ! [[ $p_scope =~ ^[0-9]+$ ]] || [ "$p_scope" -lt "${WANT_SCOPE[$label]}" ]; then
			honest=", shorter than honest"
		fi
		scopes+=", $peer /$p_scope$honest"
		if [ "$p_scope" = "$m_scope" ]; then
			ok "$what: scope meridian = $peer: /$m_scope"
		elif [[ ${DIFFERS[$label]} == *",scope-$peer,"* ]]; then
			ok "$what: scope meridian /$m_scope, $peer /$p_scope (allowed: ${REASON[$label]})"
		else
			not_ok "$what: scope meridian = $peer: meridian /$m_scope, $peer /$p_scope"
		fi
	done
	[ "$via" = ecs ] && echo "#   scopes: $scopes; shortest honest /${WANT_SCOPE[$label]}"
done

for pid in "${PIDS[@]}"; do
	kill -0 "$pid" 2>/dev/null || not_ok "a server died during the run (pid $pid)"
done
