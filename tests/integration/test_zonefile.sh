#!/usr/bin/env bash
# test_zonefile.sh -- zone file features (RFC 1035 5.1: $ORIGIN, $TTL, $INCLUDE, @, blank owners,
# parentheses, comments; RFC 2308 $TTL; RFC 3597 unknown types) served back over the wire, and a zone
# that fails to load being skipped (REFUSED) while the others are served.
. "$(dirname "$0")/lib.sh"

write_config "$(zones_lua example.com example.net example.org)"

# included files: absolute paths, so the test does not depend on the folder $INCLUDE resolves against
cat >"$DIR/inc-plain.zone" <<'EOF'
; included with the including file's origin and TTL
included   A     192.0.2.30
EOF
cat >"$DIR/inc-origin.zone" <<'EOF'
; included with an origin argument: relative names are below lab2.example.com.
host       A     192.0.2.31
@          TXT   "lab2 apex"
EOF

cat >"$DIR/example.com.zone" <<EOF
; comment line
\$ORIGIN example.com.
\$TTL 3600
@      IN  SOA  ns1.example.com. hostmaster.example.com. (
                2024010101 ; serial
                7200       ; refresh
                3600       ; retry
                1209600    ; expire
                300 )      ; minimum
       IN  NS   ns1        ; blank owner: the apex
ns1        A    192.0.2.53
www        A    192.0.2.1  ; class left out
           AAAA 2001:db8::1
WWW2       A    192.0.2.2
t300  300  A    192.0.2.3
\$TTL 120
ttl120     A    192.0.2.4
\$ORIGIN lab.example.com.
host       A    192.0.2.5
@          TXT  "lab apex"
\$ORIGIN example.com.
\$INCLUDE $DIR/inc-plain.zone
\$INCLUDE $DIR/inc-origin.zone lab2.example.com.
after      A    192.0.2.6
unk        TYPE65280 \# 4 DEADBEEF
unk0       TYPE65281 \# 0
a3597      TYPE1 \# 4 C0000207
mx         MX   10 mail.example.com.
srv        SRV  10 60 5060 sip.example.com.
caa        CAA  0 issue "ca.example.net"
tlsa       TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
sshfp      SSHFP 4 2 8B7A1E5F2C6B9D1F0F3E2A4C6B8D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F70819
naptr      NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.com.
hinfo      HINFO "PC" "Linux"
txtmulti   TXT  "one" "two three" "quote \" inside"
EOF

cat >"$DIR/example.net.zone" <<'EOF'
$ORIGIN example.net.
$TTL 600
@     SOA   ns1 hostmaster 1 7200 3600 1209600 300
      NS    ns1
ns1   A     192.0.2.80
www   A     192.0.2.81
EOF

# broken: CNAME beside other data; this zone is skipped, the others load
cat >"$DIR/example.org.zone" <<'EOF'
$ORIGIN example.org.
$TTL 600
@     SOA   ns1 hostmaster 1 7200 3600 1209600 300
      NS    ns1
ns1   A     192.0.2.90
www   A     192.0.2.91
www   CNAME ns1
EOF

start_or_bail "$CONF"

# expect_one NAME TYPE RECORD DESCRIPTION: the answer is exactly RECORD, authoritative.
expect_one()
{
	ask "$1" "$2"
	expect_section ANSWER "$4" <<<"$3"
	expect_flags "qr aa" "$4: qr aa"
}

expect_one example.com SOA 'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300' \
	"SOA written over several lines with comments"
expect_one example.com NS 'example.com. 3600 IN NS ns1.example.com.' "blank owner after the SOA: the apex"
expect_one www.example.com AAAA 'www.example.com. 3600 IN AAAA 2001:db8::1' "blank owner: the previous owner"
expect_one www2.example.com A 'www2.example.com. 3600 IN A 192.0.2.2' "upper-case owner in the file, lower-case query"
expect_one t300.example.com A 't300.example.com. 300 IN A 192.0.2.3' "explicit TTL"
expect_one ttl120.example.com A 'ttl120.example.com. 120 IN A 192.0.2.4' "\$TTL changed mid-file"
expect_one host.lab.example.com A 'host.lab.example.com. 120 IN A 192.0.2.5' "\$ORIGIN changed mid-file"
expect_one lab.example.com TXT 'lab.example.com. 120 IN TXT "lab apex"' "@ under a new \$ORIGIN"
expect_one included.example.com A 'included.example.com. 120 IN A 192.0.2.30' "\$INCLUDE"
expect_one host.lab2.example.com A 'host.lab2.example.com. 120 IN A 192.0.2.31' "\$INCLUDE with an origin"
expect_one lab2.example.com TXT 'lab2.example.com. 120 IN TXT "lab2 apex"' "\$INCLUDE with an origin: @"
expect_one after.example.com A 'after.example.com. 120 IN A 192.0.2.6' "origin restored after \$INCLUDE"
expect_one unk.example.com TYPE65280 'unk.example.com. 120 IN TYPE65280 \# 4 DEADBEEF' "RFC 3597 unknown type served"
expect_one unk0.example.com TYPE65281 'unk0.example.com. 120 IN TYPE65281 \# 0' "RFC 3597 unknown type, empty RDATA"
expect_one a3597.example.com A 'a3597.example.com. 120 IN A 192.0.2.7' "RFC 3597 form of a known type (A)"
expect_one mx.example.com MX 'mx.example.com. 120 IN MX 10 mail.example.com.' "MX"
expect_one srv.example.com SRV 'srv.example.com. 120 IN SRV 10 60 5060 sip.example.com.' "SRV"
expect_one caa.example.com CAA 'caa.example.com. 120 IN CAA 0 issue "ca.example.net"' "CAA"
expect_one tlsa.example.com TLSA \
	'tlsa.example.com. 120 IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6' "TLSA"
expect_one sshfp.example.com SSHFP \
	'sshfp.example.com. 120 IN SSHFP 4 2 8B7A1E5F2C6B9D1F0F3E2A4C6B8D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F70819' "SSHFP"
expect_one naptr.example.com NAPTR 'naptr.example.com. 120 IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.com.' "NAPTR"
expect_one hinfo.example.com HINFO 'hinfo.example.com. 120 IN HINFO "PC" "Linux"' "HINFO"
expect_one txtmulti.example.com TXT 'txtmulti.example.com. 120 IN TXT "one" "two three" "quote \" inside"' \
	"TXT with several strings and an escaped quote"

ask unk.example.com A
expect_rcode NOERROR "name holding only an unknown type: NODATA for A"

# a zone that failed to load is skipped; the others are served
expect_one www.example.net A 'www.example.net. 600 IN A 192.0.2.81' "second zone served"
ask www.example.org A
expect_rcode REFUSED "zone that failed to load (CNAME beside data): its names are REFUSED"
check "zone that failed to load: reported in the log as file:line" grep -qE '(^|/)example\.org\.zone:[0-9]+:' "$MLOG"

check "meridiand still running" alive
finish
