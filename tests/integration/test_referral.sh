#!/usr/bin/env bash
# test_referral.sh -- zone cuts and zone choice: referrals with glue, DS at a cut, parent and child
# zones served together, REFUSED outside every zone.
#
# RFC 1034 4.3.2 (referrals, AA clear), RFC 4035 3.1.4.1 (DS is answered from the parent side of the
# cut, authoritatively), RFC 2181 6.1 (glue is not authoritative data: a query for it gets a referral).
. "$(dirname "$0")/lib.sh"

write_config "$(zones_lua example.com child.example.com)"

cat >"$DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@          SOA   ns1 hostmaster 2024010101 7200 3600 1209600 300
           NS    ns1
ns1        A     192.0.2.53
; a delegation with two in-bailiwick servers (glue) and one elsewhere, and a DS
deleg      NS    ns1.deleg
deleg      NS    ns2.deleg
deleg      NS    ns.example.org.
deleg      DS    12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE9F8C3A9E8BDDA0F5A3E1B1A1
ns1.deleg  A     192.0.2.201
ns1.deleg  AAAA  2001:db8::201
ns2.deleg  A     192.0.2.202
; a delegation whose only server is out of the zone: no glue
bare       NS    ns.example.org.
; a delegation to a server named in the parent zone itself
sib        NS    ns1.example.com.
; the child zone is also served here (child.example.com.zone)
child      NS    ns1.child
child      DS    54321 13 2 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9
ns1.child  A     192.0.2.210
EOF

cat >"$DIR/child.example.com.zone" <<'EOF'
$ORIGIN child.example.com.
$TTL 1800
@      SOA   ns1 hostmaster 5 7200 3600 1209600 120
       NS    ns1
ns1    A     192.0.2.210
host   A     192.0.2.211
EOF

start_or_bail "$CONF"

DELEG_NS='deleg.example.com. 3600 IN NS ns1.deleg.example.com.
deleg.example.com. 3600 IN NS ns2.deleg.example.com.
deleg.example.com. 3600 IN NS ns.example.org.'
DELEG_GLUE='ns1.deleg.example.com. 3600 IN A 192.0.2.201
ns1.deleg.example.com. 3600 IN AAAA 2001:db8::201
ns2.deleg.example.com. 3600 IN A 192.0.2.202'

# referral: below, at and for the glue of a cut
for qn in www.deleg.example.com deleg.example.com ns1.deleg.example.com; do
	ask "$qn" A
	expect_rcode NOERROR "$qn A: referral is NOERROR"
	expect_flags "qr" "$qn A: referral has AA clear"
	expect_section ANSWER "$qn A: referral has an empty answer" <<<''
	expect_section AUTHORITY "$qn A: the cut's NS in authority" <<<"$DELEG_NS"
	expect_section ADDITIONAL "$qn A: A and AAAA glue in additional" <<<"$DELEG_GLUE"
done

ask deleg.example.com NS
expect_flags "qr" "NS at the cut: a referral (AA clear), not an authoritative answer"
expect_section ANSWER "NS at the cut: empty answer" <<<''
expect_section AUTHORITY "NS at the cut: NS in authority" <<<"$DELEG_NS"

ask deleg.example.com DS
expect_rcode NOERROR "DS at the cut: NOERROR"
expect_flags "qr aa" "DS at the cut: answered by the parent, AA set"
expect_section ANSWER "DS at the cut: the parent's DS" \
	<<<'deleg.example.com. 3600 IN DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE9F8C3A9E8BDDA0F5A3E1B1A1'

ask www.deleg.example.com DS
expect_flags "qr" "DS below the cut: a referral"
expect_section AUTHORITY "DS below the cut: the cut's NS" <<<"$DELEG_NS"

ask www.bare.example.com A
expect_flags "qr" "delegation without glue: referral"
expect_section AUTHORITY "delegation without glue: NS in authority" <<<'bare.example.com. 3600 IN NS ns.example.org.'
expect_section ADDITIONAL "delegation without glue: empty additional" <<<''

ask www.sib.example.com A
expect_section AUTHORITY "delegation to a server in the parent: NS" <<<'sib.example.com. 3600 IN NS ns1.example.com.'
expect_section ADDITIONAL "delegation to a server in the parent: its address in additional" \
	<<<'ns1.example.com. 3600 IN A 192.0.2.53'

# parent and child both served: the child answers below the cut, the parent answers DS
ask host.child.example.com A
expect_flags "qr aa" "name in a served child zone: authoritative answer, no referral"
expect_section ANSWER "name in a served child zone: its A" <<<'host.child.example.com. 1800 IN A 192.0.2.211'

ask child.example.com SOA
expect_section ANSWER "child apex SOA from the child zone" \
	<<<'child.example.com. 1800 IN SOA ns1.child.example.com. hostmaster.child.example.com. 5 7200 3600 1209600 120'

ask child.example.com NS
expect_flags "qr aa" "child apex NS: answered by the child zone, AA"
expect_section ANSWER "child apex NS: the child's NS" <<<'child.example.com. 1800 IN NS ns1.child.example.com.'

ask child.example.com DS
expect_flags "qr aa" "DS for a served child: answered by the parent, AA"
expect_section ANSWER "DS for a served child: the parent's DS" \
	<<<'child.example.com. 3600 IN DS 54321 13 2 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9'

ask nothere.child.example.com A
expect_rcode NXDOMAIN "NXDOMAIN in the child zone"
expect_section AUTHORITY "NXDOMAIN in the child zone: the child's SOA, TTL min(1800, 120)" \
	<<<'child.example.com. 120 IN SOA ns1.child.example.com. hostmaster.child.example.com. 5 7200 3600 1209600 120'

# outside every zone
for qn in www.example.org example.org com . example.co; do
	ask "$qn" A
	expect_rcode REFUSED "$qn A: outside every zone, REFUSED"
	expect_no_flag aa "$qn A: REFUSED without AA"
	check "$qn A: REFUSED has empty answer and authority" test "$NANSWER/$NAUTHORITY" = "0/0"
done

ask WWW.EXAMPLE.ORG A
expect_section QUESTION "REFUSED echoes the question as asked" <<<'WWW.EXAMPLE.ORG. IN A'

check "meridiand still running" alive
finish
