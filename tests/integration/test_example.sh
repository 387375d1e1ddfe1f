#!/usr/bin/env bash
# test_example.sh -- the example deployment in zones/ (what `make run` serves) passes --check and answers
# the queries its comments suggest, the geo records (app/cdn/img.example.com, per client subnet)
# included. Served here from a copy on a free port instead of 5353.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

write_config
cp "$ROOT"/zones/meridian.conf "$ROOT"/zones/*.zone "$ROOT"/zones/*.intent "$DIR/"
cp -r "$ROOT"/zones/geo "$ROOT"/zones/policies "$DIR/"
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

# ---- geo routing: the records app/cdn/img and the queries the config's comments suggest ------------
# ecs: the reply's CLIENT-SUBNET as "address/source/scope".
ecs()
{
	sed -nE 's/.*CLIENT-SUBNET: ([^ ]+).*/\1/p' <<<"$EDNS" | head -n 1
}

ask +subnet=192.0.2.0/24 app.example.com A
expect_section ANSWER "app from europe (192.0.2.0/24): ams" <<<'app.example.com. 30 IN A 192.0.2.10'
expect_eq "app from europe: scope 24" 192.0.2.0/24/24 "$(ecs)"
ask +subnet=10.8.0.0/16 app.example.com A
expect_section ANSWER "app from asia (10.8.0.0/16): sin" <<<'app.example.com. 30 IN A 203.0.113.10'
expect_eq "app from asia: scope 15 (10.8/16 JP and 10.9/16 AU merged)" 10.8.0.0/16/15 "$(ecs)"
ask +subnet=198.51.100.0/24 app.example.com A
expect_section ANSWER "app from us_west: the default region's order, iad" <<<'app.example.com. 30 IN A 198.51.100.10'
expect_eq "app from 198.51.100.0/24 (two regions): scope 25" 198.51.100.0/24/25 "$(ecs)"
ask +subnet=2001:db8:1::/48 app.example.com A
expect_section ANSWER "app from an IPv6 client in europe: ams" <<<'app.example.com. 30 IN A 192.0.2.10'
ask app.example.com A
expect_section ANSWER "app without a subnet (127.0.0.1, in no range): default region, iad" <<<'app.example.com. 30 IN A 198.51.100.10'
expect_eq "app without a subnet: no ECS in the reply" "" "$(ecs)"
ask +subnet=192.0.2.0/24 cdn.example.com A
expect_section ANSWER "cdn (nearest, answers = 2) from europe: ams and iad" <<'EOF'
cdn.example.com. 30 IN A 192.0.2.10
cdn.example.com. 30 IN A 198.51.100.10
EOF
ask +subnet=203.0.113.0/24 img.example.com A
expect_count NANSWER 1 "img (weighted): one address"
expect_in ANSWER '^img\.example\.com\. 60 IN A (192\.0\.2\.10|198\.51\.100\.10|203\.0\.113\.10)$' "img: a member of the pool"
ask +subnet=192.0.2.0/24 www.example.com A
expect_section ANSWER "www stays static beside the geo records" <<<'www.example.com. 3600 IN A 192.0.2.10'
expect_eq "www (static): scope 0" 192.0.2.0/24/0 "$(ecs)"

out=$(timeout 20 "$MERIDIAND" -c "$ROOT/zones/meridian.conf" --explain app.example.com A 203.0.113.7 2>&1)
check "--explain app from 203.0.113.7: office by net" grep -qE '^region: +office \(net 203\.0\.113\.0/24\)' <<<"$out"
check "--explain app from 203.0.113.7: iad" grep -qE '^answer: +app\.example\.com\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.51\.100\.10$' <<<"$out"
check "--explain app from 203.0.113.7: scope 24" grep -qE '^scope: +/24' <<<"$out"

finish
