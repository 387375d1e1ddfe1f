#!/usr/bin/env bash
# dnssec.sh -- DNSSEC differential test: pre-signed zones served by NSD and by meridiand (RFC 4035
# 3.1, RFC 5155 7.2), every query of dnssec-queries.txt sent to both with and without the DO bit,
# the answers compared; then some of meridian's answers validated end to end with delv.
#
# usage: tests/differential/dnssec.sh [--self-check | --knot]
#   BUILD_DIR (default: build) holds meridiand and tests/freeport; QUERIES (default:
#   dnssec-queries.txt next to this script) the query list. --self-check serves the zones from two NSD
#   instances instead of NSD and meridian, --knot from NSD and Knot DNS (knotd), to check the harness
#   and the query list against another implementation (Knot differs from NSD in one place no
#   annotation covers: it does not follow a CNAME for qtype RRSIG, cn1.unsigned.example RRSIG, where
#   RFC 1034 4.3.2 says to). SHOW=1 prints every normalized answer (NSD's, and the other server's
#   fields that are not compared).
#
# Zones: zones/signed.zone.in is signed at test time, so the signatures are always fresh (inception
# an hour ago, expiry in 30 days), with keys made at test time in the temporary folder (ldns-keygen,
# ECDSAP256SHA256, a KSK and a ZSK per zone): as nsec.example with NSEC, as nsec3.example with NSEC3
# (SHA-1, 0 iterations, empty salt: RFC 9276) and as optout.example with NSEC3 and the opt-out flag
# (ldns-signzone -p), its insecure delegations left out of the NSEC3 chain (see signed.zone.in);
# and once more as unsigned.example, not signed, where DO must change nothing.
# The {hash} queries use the NSEC3 owner name of www (ldns-nsec3-hash, looked up in the signed file).
#
# Compared per query, each asked with dig +norec, once with +dnssec and once without: rcode; the aa,
# tc, ad and cd flags; EDNS (present or not, version, DO: RFC 3225 3 says the DO bit is copied into the
# response); the question (case kept); the answer and authority sections as sorted lines (records
# with names lowercased, text inside quotes kept, TTLs kept). Comparing sets of records leaves out
# their order, which RFC 2181 5 and RFC 4035 3.1.1 do not fix. The additional section is compared
# in full without DO; with DO its RRSIGs are left out: RFC 4035 3.1.1 has a server add RRSIGs for
# additional-section RRsets only as space permits (and glue has none), so whether they are there is
# the server's choice, while the records themselves (the glue of a referral) are compared.
# Where the RFCs allow more than one answer, a query line ends with an annotation (see
# dnssec-queries.txt): "# differs(FIELD,...): why" leaves those fields out of the comparison (an
# answer or authority section must still not be empty where NSD's is not), "# subset(FIELD,...): why"
# asks that the other server's FIELD be a non-empty subset of NSD's. Either way the fields left out
# are still checked on their own: with DO, every RRset of the other server's answer section in a
# signed zone must carry an RRSIG (RFC 4035 3.1.1), no record may come twice, and an RRSIG's TTL
# must be that of the RRset it covers (RFC 4035 2.2). Each annotation was checked against Knot DNS
# (--knot), which agrees with NSD on every other query but one (see usage). A difference prints both
# answers in full as a unified diff: "-" lines only NSD gave, "+" lines only the other server gave,
# " " lines both gave.
#
# Validation: delv (bind9-dnsutils), with a trust-anchors file holding each zone's KSK as a
# static-key and +root=ZONE, asked of the server directly (delv sends RD=1 and validates whatever
# comes back, which works against an authoritative-only server for names inside the zone): for a
# positive answer delv must print "; fully validated", for NXDOMAIN and NODATA "; negative response,
# fully validated" together with "ncache nxdomain" or "ncache nxrrset". Each check is run against NSD
# first, so that a failure there (the harness, not the server) is told apart. In optout.example every
# NSEC3 has the opt-out flag, so a wildcard answer (whose next closer name is covered by one) is
# provably insecure rather than validated; delv says "; unsigned answer" for it, and that is what the
# check asks for there. NXDOMAIN for an NSEC3 owner name and for a name below one (RFC 5155 7.2.8)
# is validated for the other server only: NSD's proof for the name below does not validate. drill -S
# -k (ldnsutils) is not used: delv validates against the authoritative server as it is, and its
# verdict lines are plainer to check.
#
# Prints one ok / not ok line per comparison, then "N passed, N failed". About 15 s.
# shellcheck shell=bash
set -u
set -o pipefail
export LC_ALL=C # one sort order for sort and comm

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MERIDIAND=${MERIDIAND:-$BUILD_DIR/meridiand}
FREEPORT=${FREEPORT:-$BUILD_DIR/tests/freeport}
QUERIES=${QUERIES:-$HERE/dnssec-queries.txt}
PEER=meridian
NO_ADDITIONAL=0
case ${1:-} in
'') ;;
--self-check) PEER=nsd2 ;;
--knot)
	# Knot adds optional additional records (it has no minimal-responses): not compared with it
	PEER=knot
	NO_ADDITIONAL=1
	;;
*)
	echo "usage: $0 [--self-check | --knot]" >&2
	exit 2
	;;
esac

# zone name and signing: nsec, nsec3, optout, or unsigned (the same records, to check that DO alone
# adds nothing)
ZONES=(nsec.example nsec3.example optout.example unsigned.example)
SIGNED=(nsec.example nsec3.example optout.example)
declare -A MODE=([nsec.example]=nsec [nsec3.example]=nsec3 [optout.example]=optout
	[unsigned.example]=unsigned)
declare -A HASH KSK

# shellcheck disable=SC2034 # read by lib.sh
TMP_NAME=meridian-dnssec-diff
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

# ---- zones ------------------------------------------------------------------------------------------

# sign_zone ZONE: keys for ZONE in $TMP/keys/ZONE, the signed zone in $TMP/zones/ZONE.zone (the
# unsigned zone there as it is), KSK[ZONE] the KSK's base name and HASH[ZONE] the first label of an
# NSEC3 owner name (NSEC3 zones): that of www.ZONE, worked out with ldns-nsec3-hash and looked up in
# the signed file.
sign_zone()
{
	local zone=$1 mode=${MODE[$1]} keys=$TMP/keys/$1 src=$TMP/zones/$1.in out=$TMP/zones/$1.zone
	local ksk zsk now nsec3=() log=$TMP/keys/$1.log
	mkdir -p "$keys" "$TMP/zones"
	if [ "$mode" = unsigned ]; then
		{
			echo "\$ORIGIN $zone."
			cat "$HERE/zones/signed.zone.in"
		} >"$out"
		return
	fi
	if ! ksk=$(cd "$keys" && ldns-keygen -r /dev/urandom -a ECDSAP256SHA256 -k "$zone." 2>>"$log") ||
		! zsk=$(cd "$keys" && ldns-keygen -r /dev/urandom -a ECDSAP256SHA256 "$zone." 2>>"$log"); then
		bail "$zone: ldns-keygen made a KSK and a ZSK" "$log"
	fi
	KSK[$zone]=$keys/$ksk
	case $mode in
	nsec) cp "$HERE/zones/signed.zone.in" "$src" ;;
	nsec3)
		cp "$HERE/zones/signed.zone.in" "$src"
		nsec3=(-n -a 1 -t 0)
		;;
	optout)
		grep -v ';[[:space:]]*insecure[[:space:]]*$' "$HERE/zones/signed.zone.in" >"$src"
		nsec3=(-n -a 1 -t 0 -p)
		;;
	esac
	now=$(date +%s)
	ldns-signzone "${nsec3[@]}" -i $((now - 3600)) -e $((now + 30 * 86400)) -o "$zone." -f "$out" \
		"$src" "$keys/$ksk" "$keys/$zsk" >>"$log" 2>&1 || bail "$zone: ldns-signzone signed it" "$log"
	if [ "$mode" = optout ]; then
		{
			echo "; the insecure delegations, unsigned and outside the NSEC3 chain (opt-out)"
			echo "\$ORIGIN $zone."
			echo "\$TTL 3600"
			grep ';[[:space:]]*insecure[[:space:]]*$' "$HERE/zones/signed.zone.in"
		} >>"$out"
	fi
	if [ "$mode" != nsec ]; then
		HASH[$zone]=$(ldns-nsec3-hash -a 1 -t 0 "www.$zone." 2>>"$log")
		HASH[$zone]=${HASH[$zone]%%.*}
		if [ -z "${HASH[$zone]}" ] ||
			! awk -v h="${HASH[$zone]}.$zone." '$1 == h && $4 == "NSEC3" { f = 1 } END { exit !f }' "$out"; then
			bail "$zone: the signed zone has an NSEC3 record for www (${HASH[$zone]})" "$out"
		fi
	fi
}

# trust_anchors FILE: a delv trust-anchors clause with every signed zone's KSK as a static key.
trust_anchors()
{
	local zone
	{
		echo "trust-anchors {"
		for zone in "${SIGNED[@]}"; do
			sed 's/;.*//' "${KSK[$zone]}.key" | awk '
			{
				for (i = 1; i <= NF && $i != "DNSKEY"; i++) ;
				if (i > NF) next
				printf "\t\"%s\" static-key %s %s %s \"", $1, $(i + 1), $(i + 2), $(i + 3)
				for (j = i + 4; j <= NF; j++) printf "%s", $j
				print "\";"
			}'
		done
		echo "};"
	} >"$1"
	[ "$(grep -c static-key "$1")" = "${#SIGNED[@]}" ] || bail "a trust anchor for every signed zone" "$1"
}

# ---- servers ----------------------------------------------------------------------------------------

# start_nsd NAME PORT: NSD serving the signed zones on 127.0.0.1:PORT.
start_nsd()
{
	local name=$1 port=$2 d=$TMP/$1
	mkdir -p "$d"
	write_nsd_conf "$d" "$port" "$TMP/zones" "" "${ZONES[@]}"
	nsd-checkconf "$d/nsd.conf" >"$d/checkconf.log" 2>&1 || bail "$name: nsd.conf is valid" "$d/checkconf.log"
	nsd -d -c "$d/nsd.conf" >>"$d/nsd.log" 2>&1 &
	PIDS+=($!)
	wait_soa "$name" "${PIDS[-1]}" "$port" "$d/nsd.log" "${ZONES[@]}" || exit 1
}

# start_meridian NAME PORT: meridiand serving the signed zones on 127.0.0.1:PORT; waits for "ready".
start_meridian()
{
	start_meridian_serving "$1" "$2" "$TMP/zones" "" "${ZONES[@]}"
}

# start_knot NAME PORT: knotd serving the signed zones as they are (no signing of its own).
start_knot()
{
	local name=$1 port=$2 d=$TMP/$1
	mkdir -p "$d"
	command -v knotd >/dev/null || bail "knotd is installed (scripts/deps.sh installs knot)"
	{
		echo "server:"
		echo "    rundir: \"$d\""
		echo "    pidfile: \"$d/knot.pid\""
		echo "    listen: 127.0.0.1@$port"
		echo "    udp-workers: 1"
		echo "    tcp-workers: 1"
		echo "    background-workers: 1"
		echo "control:"
		echo "    listen: \"$d/knot.sock\""
		echo "database:"
		echo "    storage: \"$d\""
		echo "log:"
		echo "  - target: stderr"
		echo "    any: info"
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$TMP/zones\""
		echo "    zonefile-load: whole"
		echo "    zonefile-sync: -1"
		echo "    journal-content: none"
		echo "    semantic-checks: off"
		echo "zone:"
		for zone in "${ZONES[@]}"; do
			echo "  - domain: $zone"
			echo "    file: \"$zone.zone\""
		done
	} >"$d/knot.conf"
	knotd -c "$d/knot.conf" >"$d/knotd.log" 2>&1 &
	PIDS+=($!)
	wait_soa "$name" "${PIDS[-1]}" "$port" "$d/knotd.log" "${ZONES[@]}" || exit 1
}

# ---- queries ----------------------------------------------------------------------------------------

# The expanded query list: Q_ARGS[i] the dig arguments (NAME TYPE [OPTIONS]), Q_LABEL[i] how the
# output names it, Q_ZONE[i] the zone it is asked in, Q_KIND[i] differs or subset (or empty),
# Q_FIELDS[i] the fields it names
# (comma-separated), Q_REASON[i] why.
Q_ARGS=()
Q_LABEL=()
Q_ZONE=()
Q_KIND=()
Q_FIELDS=()
Q_REASON=()

load_queries()
{
	local line query kind fields reason zone z q h
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'' | '#'*) continue ;;
		esac
		query=${line%%#*}
		query=$(sed -E 's/[[:space:]]+$//' <<<"$query")
		kind=""
		fields=""
		reason=""
		if [[ $line =~ \#\ (differs|subset)\(([a-z,]+)\):\ (.*)$ ]]; then
			kind=${BASH_REMATCH[1]}
			fields=${BASH_REMATCH[2]}
			reason=${BASH_REMATCH[3]}
		elif [[ $line == *'# '* ]]; then
			reason="# differs(FIELD,...): why or # subset(FIELD,...): why"
			bail "$QUERIES: a comment after a query must be $reason: $line"
		fi
		for zone in "${ZONES[@]}"; do
			h=${HASH[$zone]:-}
			[[ -z $h && ($query == *'{hash}'* || $query == *'{HASH}'*) ]] && continue
			z=${zone^^}
			q=${query//'{zone}'/$zone}
			q=${q//'{ZONE}'/$z}
			q=${q//'{hash}'/$h}
			q=${q//'{HASH}'/${h^^}}
			Q_ARGS+=("$q")
			Q_LABEL+=("$q")
			Q_ZONE+=("$zone")
			Q_KIND+=("$kind")
			Q_FIELDS+=("$fields")
			Q_REASON+=("$reason")
		done
	done <"$QUERIES"
	[ "${#Q_ARGS[@]}" -gt 0 ] || bail "queries in $QUERIES"
}

DIG_OPTS=(+norec +nocookie +nosplit +time=2 +tries=1)

# ask_all SERVER PORT DO: every query's dig output in $TMP/out/SERVER.DO.N (DO: dnssec or plain).
# Queries that are only NAME TYPE go through one dig -f batch (one process instead of hundreds);
# dig reads per-line transport options in a batch unreliably (an ANY line goes over TCP whatever
# it says), so the batch is +notcp throughout and lines with options of their own are asked alone.
ask_all()
{
	local server=$1 port=$2 mode=$3 i dnssec=() batch=$TMP/out/$1.$3.batch
	local -a words map=()
	mkdir -p "$TMP/out"
	[ "$mode" = dnssec ] && dnssec=(+dnssec)
	: >"$batch"
	for i in "${!Q_ARGS[@]}"; do
		read -ra words <<<"${Q_ARGS[$i]}"
		if [ "${#words[@]}" -eq 2 ]; then
			echo "${words[0]} ${words[1]}" >>"$batch"
			map+=("$i")
		else
			dig @127.0.0.1 -p "$port" "${DIG_OPTS[@]}" "${dnssec[@]}" -q "${words[0]}" -t "${words[1]}" \
				"${words[@]:2}" >"$TMP/out/$server.$mode.$i" 2>&1
		fi
	done
	dig @127.0.0.1 -p "$port" "${DIG_OPTS[@]}" +notcp "${dnssec[@]}" -f "$batch" >"$batch.out" 2>&1
	# one reply per "; <<>> DiG ... <<>> NAME TYPE" banner, in the batch's order (checked)
	awk -v dir="$TMP/out" -v prefix="$server.$mode." -v map="${map[*]}" '
	BEGIN { n = split(map, m, " "); k = 0; f = "" }
	NR == FNR { want[FNR] = $0; next }
	/^; <<>> DiG / {
		if (f != "") close(f)
		k++; f = (k <= n) ? dir "/" prefix m[k] : ""
		got = $0; sub(/.*<<>> /, "", got)
		if (got != want[k]) { print "batch out of step at " k ": " got " for " want[k]; exit 1 }
	}
	f != "" { print > f }' "$batch" "$batch.out" >"$batch.err" ||
		bail "$server: dig -f answered in order" "$batch.err"
	for i in "${map[@]}"; do
		[ -f "$TMP/out/$server.$mode.$i" ] ||
			echo ";; no reply in the batch output" >"$TMP/out/$server.$mode.$i"
	done
}

# normalize_all SERVER MODE: every query's dig output ($TMP/out/SERVER.MODE.N) -> "field: value"
# lines, sorted (as run.sh), in $TMP/norm/SERVER.MODE.N; one awk and one sort for all of them. Only
# the first reply of each output is read. With MODE dnssec the RRSIGs of the additional section are
# left out (see the header), with NO_ADDITIONAL=1 all of it.
normalize_all()
{
	local server=$1 mode=$2 i files=()
	mkdir -p "$TMP/norm"
	for i in "${!Q_ARGS[@]}"; do
		files+=("$TMP/out/$server.$mode.$i")
	done
	awk -v mode="$mode" -v noadd="$NO_ADDITIONAL" "$AWK_DIG_TEXT"'
	function flush() {
		if (cur == "") return
		print cur "\trcode: " rcode
		print cur "\tflags:" (flags == "" ? " (none)" : flags)
		print cur "\tedns: " edns
	}
	FNR == 1 {
		flush()
		cur = FILENAME; sub(/.*\./, "", cur)
		sec = ""; replies = 0; done = 0; rcode = "NONE (no reply)"; flags = ""; edns = "none"
	}
	done { next }
	/^;; ->>HEADER<<-/ {
		if (++replies > 1) { done = 1; next }
		rcode = $0; sub(/.*status: /, "", rcode); sub(/,.*/, "", rcode)
		next
	}
	/^;; flags:/ {
		f = $0; sub(/^;; flags:/, "", f); sub(/;.*/, "", f)
		n = split(f, w, " "); flags = ""
		for (i = 1; i <= n; i++)
			if (w[i] == "aa" || w[i] == "tc" || w[i] == "ad" || w[i] == "cd") flags = flags " " w[i]
		next
	}
	/^;; OPT PSEUDOSECTION:/ { sec = "opt"; next }
	/^;; QUESTION SECTION:/ { sec = "question"; next }
	/^;; ANSWER SECTION:/ { sec = "answer"; next }
	/^;; AUTHORITY SECTION:/ { sec = "authority"; next }
	/^;; ADDITIONAL SECTION:/ { sec = noadd ? "" : "additional"; next }
	/^$/ || /^;; / { sec = ""; next }
	sec == "opt" {
		if ($0 ~ /^; EDNS:/) { e = $0; sub(/^; EDNS: /, "", e); sub(/; udp:.*/, "", e); edns = squeeze(e) }
		next
	}
	sec == "question" { q = $0; sub(/^;/, "", q); print cur "\tquestion: " squeeze(q); next }
	sec == "additional" && mode == "dnssec" && toupper($4) == "RRSIG" { next }
	sec != "" { print cur "\t" sec ": " lc(squeeze($0)) }
	END { flush() }' "${files[@]}" |
		sort -t "$(printf '\t')" -k1,1n -k2 |
		awk -v dir="$TMP/norm" -v prefix="$server.$mode." '
		{
			i = $0; sub(/\t.*/, "", i); line = $0; sub(/^[^\t]*\t/, "", line)
			if (i != last) { if (f != "") close(f); f = dir "/" prefix i; last = i }
			print line > f
		}'
}

# unsigned_rrsets: normalized lines on stdin -> the "OWNER TYPE" of each answer-section RRset that
# has no RRSIG covering it at the same owner (RRSIG records themselves aside).
unsigned_rrsets()
{
	awk '
	$1 == "answer:" {
		owner = $2; type = $5
		if (type == "rrsig") signed[owner " " $6] = 1
		else rrset[owner " " type] = 1
	}
	END { for (k in rrset) if (!(k in signed)) print k }' | sort
}

# compare_one I MODE: query I's answers from NSD and from the peer (MODE dnssec or plain) compared, one
# ok / not ok line. Fields named by a differs() annotation are left out of the comparison, but an
# answer or authority section must not be empty where NSD's is not (unless the peer's answer is
# truncated); fields named by subset() must besides hold only records NSD gives. With DO, when the
# answer is not compared, every RRset of the peer's answer in a signed zone must still be signed. In
# the fields not compared, no record may come twice and an RRSIG's TTL must be that of the RRset it
# covers.
compare_one()
{
	local i=$1 mode=$2 kind=${Q_KIND[$1]} fields=${Q_FIELDS[$1]} label=${Q_LABEL[$1]}
	local full_a full_b out_a out_b f fa fb extra note="" pattern problems=() qtype
	[ "$mode" = dnssec ] && label="$label +dnssec"
	full_a=""
	full_b=""
	[ -f "$TMP/norm/nsd.$mode.$i" ] && full_a=$(<"$TMP/norm/nsd.$mode.$i")
	[ -f "$TMP/norm/$PEER.$mode.$i" ] && full_b=$(<"$TMP/norm/$PEER.$mode.$i")
	if [[ $'\n'$full_a != *$'\n'"rcode: "* || $'\n'$full_b != *$'\n'"rcode: "* ]]; then
		not_ok "$label: the answers could not be read (normalize failed)"
		return
	fi
	if [[ $'\n'$full_a == *$'\n'"rcode: NONE"* ]]; then
		not_ok "$label: NSD did not answer"
		return
	fi
	out_a=$full_a
	out_b=$full_b
	if [ -n "$fields" ]; then
		for f in ${fields//,/ }; do
			fa=$(grep "^$f: " <<<"$full_a")
			fb=$(grep "^$f: " <<<"$full_b")
			if [ -n "$fa" ] && [ -z "$fb" ] && [ "$f" != additional ] &&
				! grep -q '^flags:.* tc' <<<"$full_b"; then
				problems+=("$f: empty, NSD's is not")
			elif [ "$kind" = subset ]; then
				extra=$(comm -13 <(echo "$fa") <(echo "$fb"))
				[ -n "$extra" ] && problems+=("$f: records NSD does not give")
			fi
		done
		pattern="^(${fields//,/|}):"
		out_a=$(grep -vE "$pattern" <<<"$out_a")
		out_b=$(grep -vE "$pattern" <<<"$out_b")
		if [ "$kind" = subset ]; then
			note=" ($fields: a subset of NSD's: ${Q_REASON[$i]})"
		else
			note=" ($fields not compared: ${Q_REASON[$i]})"
		fi
		read -r _ qtype _ <<<"${Q_ARGS[$i]}"
		qtype=${qtype^^}
		if [ "$mode" = dnssec ] && [[ ",$fields," == *,answer,* ]] && [ "$qtype" != RRSIG ] &&
			[ "${MODE[${Q_ZONE[$i]}]}" != unsigned ]; then
			while IFS= read -r f; do
				[ -n "$f" ] && problems+=("answer: $f has no RRSIG (RFC 4035 3.1.1)")
			done < <(unsigned_rrsets <<<"$full_b")
		fi
		while IFS= read -r f; do
			[ -n "$f" ] && problems+=("$f")
		done < <(grep -E "$pattern" <<<"$full_b" | record_faults)
	fi
	if [ "$out_a" = "$out_b" ] && [ "${#problems[@]}" -eq 0 ]; then
		ok "$label$note"
		if [ "${SHOW:-0}" = 1 ]; then
			# shellcheck disable=SC2001 # every line
			sed 's/^/#   /' <<<"$full_a"
			[ -n "$fields" ] && grep -E "$pattern" <<<"$full_b" | sed "s/^/#   $PEER's /"
		fi
		return
	fi
	not_ok "$label$note"
	for f in "${problems[@]}"; do
		echo "#   $PEER: $f"
	done
	diff -U 1000 --label nsd --label "$PEER" <(echo "$full_a") <(echo "$full_b") | tail -n +4 |
		sed 's/^/#   /'
}

# record_faults: normalized lines on stdin -> one line per record given twice in one section (TTL
# aside) and per RRSIG whose TTL is not that of the RRset it covers in the same section (RFC 4035 2.2).
record_faults()
{
	awk '
	{
		sec = $1; owner = $2; ttl = $3; type = $5
		key = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", key); key = sec " " owner " " key
		what = (type == "rrsig") ? "rrsig " $6 : type
		if (seen[key]++ == 1) print sec " " owner " " what ": the same record twice"
		if (type == "rrsig") sig[sec " " owner " " $6] = sig[sec " " owner " " $6] " " ttl
		else rrttl[sec " " owner " " type] = ttl
	}
	END {
		for (k in sig) {
			if (!(k in rrttl)) continue
			n = split(sig[k], t, " ")
			for (j = 1; j <= n; j++)
				if (t[j] != rrttl[k]) {
					print k ": RRSIG TTL " t[j] ", that of the RRset " rrttl[k] " (RFC 4035 2.2)"
					break
				}
		}
	}' | sort
}

# ---- delv -------------------------------------------------------------------------------------------

# The delv checks: V_SERVER[i], V_PORT[i], V_EXPECT[i], V_NAME[i], V_TYPE[i], V_ZONE[i].
V_SERVER=()
V_PORT=()
V_EXPECT=()
V_NAME=()
V_TYPE=()
V_ZONE=()

# check SERVER PORT EXPECT NAME TYPE ZONE: adds a delv check: NAME TYPE (in ZONE, whose KSK is the
# trust anchor) asked of the server must get the verdict EXPECT: secure (a positive answer, fully
# validated), nxdomain or nodata (a negative one, fully validated), cname-nxdomain (a validated CNAME
# to a name that does not exist), or insecure (a positive answer proven insecure through an opt-out
# span).
check()
{
	V_SERVER+=("$1")
	V_PORT+=("$2")
	V_EXPECT+=("$3")
	V_NAME+=("$4")
	V_TYPE+=("$5")
	V_ZONE+=("$6")
}

# run_checks: every delv check, four at a time (each delv is a tenth of a second of mostly waiting),
# then their verdicts in order.
run_checks()
{
	local i out good running=()
	for i in "${!V_NAME[@]}"; do
		timeout 20 delv @127.0.0.1 -p "${V_PORT[$i]}" -a "$TMP/anchors.conf" +root="${V_ZONE[$i]}" \
			"${V_NAME[$i]}" "${V_TYPE[$i]}" >"$TMP/delv.$i" 2>&1 &
		running+=($!)
		# wait for these by pid: a bare wait would wait for the servers too
		if [ "${#running[@]}" -ge 4 ]; then
			wait "${running[@]}"
			running=()
		fi
	done
	[ "${#running[@]}" -gt 0 ] && wait "${running[@]}"
	for i in "${!V_NAME[@]}"; do
		out=$TMP/delv.$i
		good=0
		case ${V_EXPECT[$i]} in
		secure) grep -q '^; fully validated' "$out" && ! grep -q 'resolution failed' "$out" && good=1 ;;
		nxdomain)
			grep -q 'ncache nxdomain' "$out" && grep -q '^; negative response, fully validated' "$out" && good=1
			;;
		nodata)
			grep -q 'ncache nxrrset' "$out" && grep -q '^; negative response, fully validated' "$out" && good=1
			;;
		# a validated CNAME to a missing name: delv prints "; fully validated" for the chain and the
		# NXDOMAIN below it (a proof that failed would end in "resolution failed: ..." of another kind)
		cname-nxdomain) grep -q 'ncache nxdomain' "$out" && grep -q '^; fully validated' "$out" && good=1 ;;
		# a wildcard answer whose next closer name is covered by an opt-out NSEC3: an unsigned
		# delegation could be there (RFC 5155 6, 9.2), so BIND calls it insecure and delv says
		# "; unsigned answer" (the records are there, their RRSIGs too)
		insecure) grep -q '^; unsigned answer' "$out" && ! grep -q 'resolution failed' "$out" && good=1 ;;
		esac
		if [ "$good" = 1 ]; then
			ok "delv ${V_SERVER[$i]}: ${V_NAME[$i]} ${V_TYPE[$i]}: ${V_EXPECT[$i]}"
		else
			not_ok "delv ${V_SERVER[$i]}: ${V_NAME[$i]} ${V_TYPE[$i]}: ${V_EXPECT[$i]}"
			sed 's/^/#   /' "$out"
		fi
	done
}

# ---- the run ----------------------------------------------------------------------------------------

for tool in nsd nsd-checkconf dig ldns-keygen ldns-signzone ldns-nsec3-hash; do
	command -v "$tool" >/dev/null || bail "$tool is installed (scripts/deps.sh installs it)"
done
[ -x "$FREEPORT" ] || bail "$FREEPORT exists (build it first: make)"

for zone in "${ZONES[@]}"; do
	sign_zone "$zone"
done
load_queries

PORT_A=$("$FREEPORT") || bail "a free port for NSD"
PORT_B=$("$FREEPORT") || bail "a free port for the second server"
while [ "$PORT_B" = "$PORT_A" ]; do PORT_B=$("$FREEPORT"); done
start_nsd nsd "$PORT_A"
case $PEER in
meridian) start_meridian meridian "$PORT_B" ;;
nsd2) start_nsd nsd2 "$PORT_B" ;;
knot) start_knot knot "$PORT_B" ;;
esac
echo "# comparing NSD (port $PORT_A) with $PEER (port $PORT_B): ${#Q_ARGS[@]} queries x (DO, no DO)"

for mode in dnssec plain; do
	ask_all nsd "$PORT_A" "$mode"
	ask_all "$PEER" "$PORT_B" "$mode"
	normalize_all nsd "$mode"
	normalize_all "$PEER" "$mode"
done

for mode in dnssec plain; do
	for i in "${!Q_ARGS[@]}"; do
		compare_one "$i" "$mode"
	done
done

# ---- end-to-end validation ----------------------------------------------------------------------------

if command -v delv >/dev/null; then
	trust_anchors "$TMP/anchors.conf"
	for zone in "${SIGNED[@]}"; do
		# EXPECT[/EXPECT IN THE OPT-OUT ZONE] NAME TYPE
		for check in \
			"secure www A" "secure/insecure foo.w A" "secure/insecure foo.q.e A" "secure cn1 A" \
			"secure multi TXT" "secure/insecure cnwild A" \
			"nxdomain nothere A" "nxdomain x.b.c A" "cname-nxdomain cnmiss A" \
			"nodata www MX" "nodata b.c A" "nodata foo.w AAAA" \
			"secure sec DS" "nodata insec DS" "nodata insec2 DS" "nodata w A" "secure www.dn A"; do
			read -r expect name type <<<"$check"
			if [ "${MODE[$zone]}" = optout ]; then
				expect=${expect#*/}
			else
				expect=${expect%/*}
			fi
			check nsd "$PORT_A" "$expect" "$name.$zone" "$type" "$zone"
			check "$PEER" "$PORT_B" "$expect" "$name.$zone" "$type" "$zone"
		done
		# below an NSEC3 owner name (RFC 5155 7.2.8): of the peer only, as NSD's proof does not
		# validate (see dnssec-queries.txt)
		if [ -n "${HASH[$zone]:-}" ] && [ "$PEER" != nsd2 ]; then
			check "$PEER" "$PORT_B" nxdomain "x.${HASH[$zone]}.$zone" A "$zone"
			check "$PEER" "$PORT_B" nxdomain "${HASH[$zone]}.$zone" A "$zone"
		fi
	done
	run_checks
else
	not_ok "delv is installed (scripts/deps.sh installs bind9-dnsutils)"
fi

for pid in "${PIDS[@]}"; do
	kill -0 "$pid" 2>/dev/null || not_ok "a server died during the run"
done
