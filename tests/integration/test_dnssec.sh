#!/usr/bin/env bash
# test_dnssec.sh -- a presigned zone end to end (README, DNS behaviour: DNSSEC): signed at test time
# with ldns-signzone (NSEC3), it is answered with RRSIGs and proofs when the query has DO, and only
# then (the prepared table on, as by default); meridianctl status, its JSON and the metrics say when
# its first signature expires; signatures that have expired are warned about at file:line by --check
# and by a reload, which still serves the zone; a dynamic record in a signed zone is refused at its
# line of the config. (tests/differential/dnssec.sh compares the answers with NSD's and validates
# them; tests/unit/test_dnssec.c holds them to RFC 4035's and RFC 5155's examples.)
. "$(dirname "$0")/lib.sh"

CTL=$BUILD_DIR/meridianctl
ctl() { "$CTL" -s "$DIR/run/meridian.sock" "$@"; }
MPORT=$("$FREEPORT")
EXPIRES=2240524800 # 2040-12-31 00:00:00 UTC, the expiry the zone is signed with first

write_config "metrics = \"127.0.0.1:$MPORT\"" "$(zones_lua example.com)"
cat >"$DIR/example.com.src" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 900 1209600 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.10
EOF
# sign INCEPTION EXPIRATION: example.com.zone from the source, NSEC3 (0 iterations, no salt)
sign()
{
	(cd "$DIR" && ldns-signzone -n -t 0 -i "$1" -e "$2" -o example.com. -f example.com.zone \
		example.com.src "$KEY") >"$DIR/sign.log" 2>&1
}
if ! KEY=$(cd "$DIR" && ldns-keygen -a ECDSAP256SHA256 example.com 2>"$DIR/keygen.log") ||
	! sign 20200101000000 20401231000000; then
	not_ok "the zone is signed with ldns-keygen and ldns-signzone (ldnsutils, scripts/deps.sh)" \
		"$(cat "$DIR"/*.log)"
	exit 1
fi
start_or_bail "$CONF"

ask +dnssec www.example.com A
expect_section ANSWER "DO: the answer and its RRSIG" <<<"www.example.com. 3600 IN A 192.0.2.10
$(grep -E '^www\.example\.com\.[[:space:]].*RRSIG[[:space:]]+A ' "$DIR/example.com.zone" | squeeze)"
ask www.example.com A
expect_section ANSWER "no DO: the answer alone (from the prepared table)" <<<"www.example.com. 3600 IN A 192.0.2.10"
ask +dnssec nx.example.com A
expect_rcode NXDOMAIN "DO, a missing name: NXDOMAIN"
expect_in AUTHORITY "RRSIG SOA " "with the SOA's RRSIG"
n=$(grep -c ' NSEC3 1 0 0 - ' <<<"$AUTHORITY")
expect_eq "and the NSEC3 records of the closest encloser proof and the wildcard (2 or 3)" 1 \
	"$([ "$n" -ge 2 ] && [ "$n" -le 3 ] && echo 1 || echo "$n")"
ask nx.example.com A
expect_section AUTHORITY "no DO: the SOA alone" <<<"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 300"

STATUS=$(ctl status)
expect_in STATUS "^zone: +example\.com serial 1 \([0-9]+ records\), signed with NSEC3, first signature expires 2040-12-31 00:00 UTC$" \
	"status: signed with NSEC3, and when the first signature expires"
# the signed zone's answers are prepared twice, the second time as a query with DO gets them
expect_in STATUS "^prepared: +[0-9]+ answers, [1-9][0-9]* of them also with DNSSEC " \
	"status: the prepared answers with DNSSEC, for queries with DO"
check "the log says how many" grep -qE "prepared answers: [0-9]+, [1-9][0-9]* of them also with DNSSEC" "$MLOG"
JSON=$(ctl status --json)
expect_in JSON "\"dnssec\":\"NSEC3\",\"signatures_expire\":$EXPIRES" "status --json: dnssec and signatures_expire"
expect_eq "meridian_zone_signatures_expire_time_seconds: the expiry" "$EXPIRES" \
	"$(curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk '$1 == "meridian_zone_signatures_expire_time_seconds{zone=\"example.com\"}" { print $2 }')"

# Signatures that expired on 2020-02-01: warned about, served all the same (the operator decides).
sign 20200101000000 20200201000000 || not_ok "the zone is signed again" "$(cat "$DIR/sign.log")"
OUT=$("$MERIDIAND" -c "$CONF" --check 2>&1)
expect_eq "--check: expired signatures are warnings, not errors (exit 0)" 0 $?
expect_in OUT "warning: .*/example\.com\.zone:[0-9]+: the RRSIG over [A-Z0-9]+ at [a-z0-9.]+ expired on 2020-02-01 00:00:00 UTC" \
	"--check names the expired signature at file:line"
OUT=$(ctl reload 2>&1)
expect_eq "a reload of the expired zone is accepted (exit 0)" 0 $?
expect_in OUT "^reload ok: serial 1 serving \(snapshot [0-9]+\); zones: 1 read, 0 kept \(files unchanged\)$" \
	"meridianctl reload: the changed zone was read"
check "the log warns about it" grep -q "expired on 2020-02-01 00:00:00 UTC" "$MLOG"
# the same again: nothing changed, the zone is kept as it is, and still warned about
OUT=$(ctl reload 2>&1)
expect_in OUT "; zones: 0 read, 1 kept \(files unchanged\)$" "meridianctl reload again: the zone is kept"
expect_in OUT "zone example\.com: its first RRSIG expired on 2020-02-01 00:00:00 UTC" \
	"... and its expired signatures still reported"
STATUS=$(ctl status)
expect_in STATUS "signed with NSEC3, first signature expires 2020-02-01 00:00 UTC$" "status shows the expiry in the past"
ask +dnssec www.example.com A
expect_count NANSWER 2 "and the zone is served, signatures and all"

# ZONEMD (RFC 8976): signed with a digest of itself, the zone loads; changed afterwards, a reload is
# refused at the ZONEMD's line and the zone as it was keeps serving.
(cd "$DIR" && ldns-signzone -n -t 0 -z sha384 -i 20200101000000 -e 20401231000000 -o example.com. \
	-f example.com.zone example.com.src "$KEY") >"$DIR/sign.log" 2>&1 ||
	not_ok "the zone is signed with a ZONEMD (ldns-signzone -z sha384)" "$(cat "$DIR/sign.log")"
OUT=$(ctl reload 2>&1)
expect_eq "a zone with a ZONEMD that matches: the reload is accepted (exit 0)" 0 $?
ask +dnssec example.com ZONEMD
expect_in ANSWER "^example\.com\. [0-9]+ IN ZONEMD 1 1 1 " "the ZONEMD is served"
sed -i 's/^\(www\.example\.com\.[[:space:]].*[[:space:]]A[[:space:]]*\)192\.0\.2\.10$/\1192.0.2.99/' \
	"$DIR/example.com.zone"
zline=$(grep -n 'IN[[:space:]]ZONEMD' "$DIR/example.com.zone" | head -1 | cut -d: -f1)
OUT=$(ctl reload 2>&1)
expect_eq "the file changed after its digest: the reload is refused (exit 1)" 1 $?
expect_in OUT "example\.com\.zone:$zline: ZONEMD: no digest matches the zone's contents" \
	"and says so at the ZONEMD's line"
ask www.example.com A
expect_section ANSWER "the zone as it was keeps serving" <<<"www.example.com. 3600 IN A 192.0.2.10"

# A dynamic record in a signed zone: refused at the record's line of the config.
cat >>"$CONF" <<'EOF'
datacenters = { ams = {} }
pools = { web = { check = { type = "exec", command = "true" },
                  members = { { name = "ams-1", addr = "192.0.2.1", dc = "ams" } } } }
records = { { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "all" } }
EOF
line=$(grep -n 'name = "api.example.com"' "$CONF" | cut -d: -f1)
OUT=$("$MERIDIAND" -c "$CONF" --check 2>&1)
expect_eq "--check of a dynamic record in a signed zone fails (exit 1)" 1 $?
expect_in OUT "meridian\.conf:$line: A record at api\.example\.com\.: dynamic record in a DNSSEC-signed zone" \
	"and names the record's line"
finish
