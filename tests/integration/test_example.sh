#!/usr/bin/env bash
# test_example.sh -- the example deployment in zones/ (what `make run` serves) passes --check and answers
# the queries its comments suggest. Served here from a copy on a free port instead of 5353.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

write_config
cp "$ROOT"/zones/meridian.conf "$ROOT"/zones/*.zone "$DIR/"
sed -i -E "s/^listen *=.*/listen = { \"127.0.0.1:$PORT\" }/" "$DIR/meridian.conf"
CONF=$DIR/meridian.conf
check "example config copy listens on the test port" grep -q "127.0.0.1:$PORT" "$CONF"

out=$(timeout 20 "$MERIDIAND" -c "$ROOT/zones/meridian.conf" --check 2>&1)
rc=$?
expect_eq "zones/meridian.conf: --check exits 0" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'

start_or_bail "$CONF"

ask www.example.com A
expect_section ANSWER "www.example.com A" <<<'www.example.com. 3600 IN A 192.0.2.10'
expect_flags "qr aa" "www.example.com: authoritative"

ask shop.example.com A
expect_section ANSWER "shop.example.com: CNAME followed inside the zone" <<'EOF'
shop.example.com. 3600 IN CNAME www.example.com.
www.example.com. 3600 IN A 192.0.2.10
EOF

ask anything.dev.example.com A
expect_section ANSWER "anything.dev.example.com: the wildcard" <<<'anything.dev.example.com. 3600 IN A 192.0.2.80'
ask status.dev.example.com A
expect_section ANSWER "status.dev.example.com: its own address, not the wildcard's" <<<'status.dev.example.com. 3600 IN A 192.0.2.81'

ask www.lab.example.com A
expect_flags "qr" "www.lab.example.com: referral (AA clear)"
expect_section AUTHORITY "www.lab.example.com: the lab NS" <<'EOF'
lab.example.com. 3600 IN NS ns1.lab.example.com.
lab.example.com. 3600 IN NS ns2.example.net.
EOF
expect_section ADDITIONAL "www.lab.example.com: glue" <<'EOF'
ns1.lab.example.com. 3600 IN A 192.0.2.200
ns1.lab.example.com. 3600 IN AAAA 2001:db8::200
EOF

ask lab.example.com DS
expect_flags "qr aa" "lab.example.com DS: answered by the parent"
expect_count NANSWER 1 "lab.example.com DS: one record"

ask nothere.example.com A
expect_rcode NXDOMAIN "nothere.example.com: NXDOMAIN"
expect_in AUTHORITY '^example\.com\. 300 IN SOA ' "nothere.example.com: SOA with the negative TTL 300"

ask _sip._udp.example.com SRV
expect_section ANSWER "SRV" <<<'_sip._udp.example.com. 3600 IN SRV 10 60 5060 sip.example.com.'

ask example.com MX
expect_section ANSWER "apex MX" <<'EOF'
example.com. 3600 IN MX 10 mail.example.com.
example.com. 3600 IN MX 20 mail-backup.example.net.
EOF

ask -c CH -t TXT -q id.server
expect_in ANSWER 'TXT "ns1\.example\.com"$' "CH TXT id.server: the configured identity"
ask +nsid www.example.com A
expect_in EDNS '\("meridian-example"\)' "NSID: the configured value"

finish
