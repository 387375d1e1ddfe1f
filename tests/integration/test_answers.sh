#!/usr/bin/env bash
# test_answers.sh -- lookups inside one zone: exact match, AA, case, CNAME chains, wildcards, negatives.
#
# RFC 1034 4.3.2 (the lookup algorithm), RFC 4592 (wildcards, empty non-terminals), RFC 2308
# (negative answers: SOA in authority, TTL = min(SOA TTL, SOA MINIMUM)), RFC 6604 (rcode of a CNAME
# chain), and the project's decisions: minimal responses, CNAME chains bounded to 8 links.
. "$(dirname "$0")/lib.sh"

write_config "$(zones_lua example.com example.net)"

cat >"$DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@        IN SOA   ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )
         IN NS    ns1
         IN NS    ns2
ns1      IN A     192.0.2.53
ns2      IN A     192.0.2.54
www      IN A     192.0.2.1
www      IN AAAA  2001:db8::1
www  600 IN TXT   "web server"
alias    IN CNAME www
c1       IN CNAME c2
c2       IN CNAME c3
c3       IN CNAME www
loop1    IN CNAME loop2
loop2    IN CNAME loop1
self     IN CNAME self
ext      IN CNAME www.example.org.
dangling IN CNAME nothere
long0    IN CNAME long1
long1    IN CNAME long2
long2    IN CNAME long3
long3    IN CNAME long4
long4    IN CNAME long5
long5    IN CNAME long6
long6    IN CNAME long7
long7    IN CNAME long8
long8    IN CNAME long9
long9    IN CNAME long10
long10   IN CNAME long11
long11   IN CNAME www
*.wild   IN A     192.0.2.100
*.wild   IN TXT   "wildcard"
exists.wild IN A  192.0.2.101
a.b.wild IN TXT   "below an empty non-terminal"
*.wc     IN CNAME www
EOF

# SOA TTL below MINIMUM: the negative TTL is the SOA TTL.
cat >"$DIR/example.net.zone" <<'EOF'
$ORIGIN example.net.
@   60 IN SOA ns1.example.net. hostmaster.example.net. 7 7200 3600 1209600 600
   600 IN NS  ns1
ns1 600 IN A  192.0.2.80
EOF

start_or_bail "$CONF"

SOA='example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300'

# ---- exact match -------------------------------------------------------------------------------------
ask www.example.com A
expect_rcode NOERROR "www A: NOERROR"
expect_flags "qr aa" "www A: flags are exactly qr aa (authoritative, RD not set, no RA, no TC)"
expect_section ANSWER "www A: the A record" <<<'www.example.com. 3600 IN A 192.0.2.1'
expect_section AUTHORITY "www A: minimal response, empty authority" <<<''
expect_section ADDITIONAL "www A: minimal response, empty additional" <<<''

ask www.example.com AAAA
expect_section ANSWER "www AAAA: the AAAA record" <<<'www.example.com. 3600 IN AAAA 2001:db8::1'

ask www.example.com TXT
expect_section ANSWER "www TXT: its own TTL" <<<'www.example.com. 600 IN TXT "web server"'

ask +rec www.example.com A
expect_flags "qr aa rd" "RD=1 is copied into the answer, RA stays clear"

ask +cdflag www.example.com A
expect_no_flag cd "CD=1 in the query: an authoritative answer clears it (RFC 4035 3.1.6), as NSD and Knot do"
ask +adflag www.example.com A
expect_no_flag ad "AD=1 in the query: unsigned data, AD clear in the answer (RFC 6840 5.8)"

ask example.com SOA
expect_section ANSWER "apex SOA" <<<'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300'
expect_flag aa "apex SOA: AA"

ask example.com NS
expect_section ANSWER "apex NS: both, AA" <<'EOF'
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
EOF
expect_flag aa "apex NS: AA set (the apex NS is authoritative data)"

# ---- case -------------------------------------------------------------------------------------------
ask WwW.ExAmPlE.cOm A
expect_section QUESTION "mixed case: question echoed with the query's case" <<<'WwW.ExAmPlE.cOm. IN A'
expect_eq "mixed case: matched case-insensitively" "192.0.2.1" "$(awk '{print $5}' <<<"$ANSWER")"
expect_rcode NOERROR "mixed case: NOERROR"

ask NOTHERE.EXAMPLE.COM A
expect_section QUESTION "mixed case NXDOMAIN: question echoed" <<<'NOTHERE.EXAMPLE.COM. IN A'

# ---- negative answers -------------------------------------------------------------------------------
ask www.example.com MX
expect_rcode NOERROR "NODATA: rcode NOERROR"
expect_flags "qr aa" "NODATA: AA"
expect_section ANSWER "NODATA: empty answer" <<<''
expect_section AUTHORITY "NODATA: SOA in authority with TTL min(3600, 300)" <<<"$SOA"

ask nothere.example.com A
expect_rcode NXDOMAIN "NXDOMAIN for a missing name"
expect_flags "qr aa" "NXDOMAIN: AA"
expect_section ANSWER "NXDOMAIN: empty answer" <<<''
expect_section AUTHORITY "NXDOMAIN: SOA in authority with TTL min(3600, 300)" <<<"$SOA"

ask deeper.www.example.com A
expect_rcode NXDOMAIN "NXDOMAIN below an existing name"

ask nothere.example.net A
expect_rcode NXDOMAIN "example.net: NXDOMAIN"
expect_section AUTHORITY "example.net: negative TTL is the SOA TTL when it is below MINIMUM" \
	<<<'example.net. 60 IN SOA ns1.example.net. hostmaster.example.net. 7 7200 3600 1209600 600'

# ---- CNAME ------------------------------------------------------------------------------------------
ask alias.example.com A
expect_rcode NOERROR "CNAME: NOERROR"
expect_flags "qr aa" "CNAME: AA"
expect_section ANSWER "CNAME: the CNAME and the target's A" <<'EOF'
alias.example.com. 3600 IN CNAME www.example.com.
www.example.com. 3600 IN A 192.0.2.1
EOF
expect_section AUTHORITY "CNAME: empty authority" <<<''

ask alias.example.com CNAME
expect_section ANSWER "qtype CNAME: the CNAME only, not followed" <<<'alias.example.com. 3600 IN CNAME www.example.com.'

ask alias.example.com MX
expect_rcode NOERROR "CNAME to a name without the type: NOERROR"
expect_section ANSWER "CNAME to NODATA: the CNAME" <<<'alias.example.com. 3600 IN CNAME www.example.com.'
expect_section AUTHORITY "CNAME to NODATA: SOA in authority" <<<"$SOA"

ask c1.example.com A
expect_section ANSWER "CNAME chain of three links followed to the end" <<'EOF'
c1.example.com. 3600 IN CNAME c2.example.com.
c2.example.com. 3600 IN CNAME c3.example.com.
c3.example.com. 3600 IN CNAME www.example.com.
www.example.com. 3600 IN A 192.0.2.1
EOF

ask loop1.example.com A
expect_rcode NOERROR "CNAME loop: answered (NOERROR)"
expect_section ANSWER "CNAME loop: each name once" <<'EOF'
loop1.example.com. 3600 IN CNAME loop2.example.com.
loop2.example.com. 3600 IN CNAME loop1.example.com.
EOF

ask self.example.com A
expect_section ANSWER "CNAME to itself: one record" <<<'self.example.com. 3600 IN CNAME self.example.com.'

ask long0.example.com A
expect_rcode NOERROR "12-link chain: answered"
n=$(grep -c . <<<"$ANSWER")
check "12-link chain: bounded (2..9 records, got $n)" test "$n" -ge 2 -a "$n" -le 9
expect_eq "12-link chain: the records are the chain's first links, in order" \
	"$(for ((i = 0; i < n; i++)); do echo "long$i.example.com. 3600 IN CNAME long$((i + 1)).example.com."; done)" \
	"$ANSWER"

ask ext.example.com A
expect_rcode NOERROR "CNAME out of zone: NOERROR"
expect_flags "qr aa" "CNAME out of zone: AA"
expect_section ANSWER "CNAME out of zone: the CNAME only" <<<'ext.example.com. 3600 IN CNAME www.example.org.'
expect_section AUTHORITY "CNAME out of zone: empty authority" <<<''

ask dangling.example.com A
expect_rcode NXDOMAIN "CNAME to a missing name: NXDOMAIN (RFC 6604)"
expect_section ANSWER "CNAME to a missing name: the CNAME" <<<'dangling.example.com. 3600 IN CNAME nothere.example.com.'
expect_section AUTHORITY "CNAME to a missing name: SOA in authority" <<<"$SOA"

# ---- wildcards (RFC 4592) ---------------------------------------------------------------------------
ask foo.wild.example.com A
expect_rcode NOERROR "wildcard: NOERROR"
expect_flags "qr aa" "wildcard: AA"
expect_section ANSWER "wildcard: A synthesized with the query name" <<<'foo.wild.example.com. 3600 IN A 192.0.2.100'

ask FoO.wild.example.com TXT
ANSWER=$(lower_owners <<<"$ANSWER")
expect_section ANSWER "wildcard TXT synthesized for a mixed-case name" <<<'foo.wild.example.com. 3600 IN TXT "wildcard"'

ask a.b.c.wild.example.com A
expect_section ANSWER "wildcard: several labels deep" <<<'a.b.c.wild.example.com. 3600 IN A 192.0.2.100'

ask foo.wild.example.com AAAA
expect_rcode NOERROR "wildcard NODATA: NOERROR"
expect_section ANSWER "wildcard NODATA: empty answer" <<<''
expect_section AUTHORITY "wildcard NODATA: SOA in authority" <<<"$SOA"

ask exists.wild.example.com A
expect_section ANSWER "existing name: its own data, not the wildcard's" <<<'exists.wild.example.com. 3600 IN A 192.0.2.101'

ask exists.wild.example.com TXT
expect_rcode NOERROR "existing name blocks the wildcard: NODATA, not the wildcard TXT"
expect_section ANSWER "existing name blocks the wildcard: empty answer" <<<''

ask sub.exists.wild.example.com A
expect_rcode NXDOMAIN "below an existing name the wildcard does not apply: NXDOMAIN"

ask b.wild.example.com A
expect_rcode NOERROR "empty non-terminal b.wild: NOERROR (it exists)"
expect_section ANSWER "empty non-terminal blocks the wildcard: empty answer" <<<''
expect_section AUTHORITY "empty non-terminal: SOA in authority" <<<"$SOA"

ask x.b.wild.example.com A
expect_rcode NXDOMAIN "below an empty non-terminal without its own wildcard: NXDOMAIN"

ask wild.example.com A
expect_rcode NOERROR "parent of the wildcard (an empty non-terminal): NOERROR"
expect_section ANSWER "parent of the wildcard: empty answer" <<<''

ask '*.wild.example.com' A
expect_section ANSWER "the wildcard asked literally" <<<'*.wild.example.com. 3600 IN A 192.0.2.100'

ask foo.wc.example.com A
expect_section ANSWER "wildcard CNAME: synthesized CNAME, then the target" <<'EOF'
foo.wc.example.com. 3600 IN CNAME www.example.com.
www.example.com. 3600 IN A 192.0.2.1
EOF

check "meridiand still running" alive
finish
