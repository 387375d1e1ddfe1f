#!/usr/bin/env bash
# test_special.sh -- queries answered by rule rather than by lookup: ANY (RFC 8482), CHAOS TXT
# id.server / version.bind, classes other than IN, zone transfers.
#
# Project decisions: ANY over UDP returns one RRset (the lowest type at the name), over TCP all of
# them; CHAOS TXT answers only when identity / version are configured, otherwise REFUSED; classes
# other than IN and CH are REFUSED; AXFR and IXFR are REFUSED (no zone here has a transfer list;
# test_transfer.sh covers transfers). Every refusal of an EDNS query says why with an Extended DNS
# Error (RFC 8914): 20 Not Authoritative for a name outside every zone (as NSD and Knot), 21 Not
# Supported for transfers, other classes and other CHAOS questions, 18 Prohibited for CHAOS names
# the operator chose not to disclose.
. "$(dirname "$0")/lib.sh"

write_config "$(zones_lua example.com)" 'identity = "ns-test-1"' 'version = "meridian-test-version"'
write_basic_zone
cat >>"$DIR/example.com.zone" <<'EOF'
www   TXT   "web"
www   AAAA  2001:db8::1
www   MX    10 mail
mail  A     192.0.2.25
EOF
start_or_bail "$CONF"

# ---- ANY --------------------------------------------------------------------------------------------
ask +notcp www.example.com ANY # dig sends ANY over TCP unless told otherwise
check "ANY over UDP: dig really used UDP" grep -q '(UDP)$' <<<"$OUT"
expect_rcode NOERROR "ANY over UDP: NOERROR"
expect_flags "qr aa" "ANY over UDP: AA"
expect_section ANSWER "ANY over UDP: one RRset, the lowest type at the name (A)" <<<'www.example.com. 3600 IN A 192.0.2.1'

ask +tcp www.example.com ANY
expect_rcode NOERROR "ANY over TCP: NOERROR"
expect_section ANSWER "ANY over TCP: every RRset at the name" <<'EOF'
www.example.com. 3600 IN A 192.0.2.1
www.example.com. 3600 IN AAAA 2001:db8::1
www.example.com. 3600 IN MX 10 mail.example.com.
www.example.com. 3600 IN TXT "web"
EOF

ask nothere.example.com ANY
expect_rcode NXDOMAIN "ANY for a missing name: NXDOMAIN"

ask +tcp example.com ANY
expect_in ANSWER '^example\.com\. 3600 IN SOA ' "ANY over TCP at the apex: the SOA"
expect_in ANSWER '^example\.com\. 3600 IN NS ns1\.example\.com\.$' "ANY over TCP at the apex: the NS"

# ---- CHAOS ------------------------------------------------------------------------------------------
chaos_fields()
{
	awk '{ print $1, $3, $4, $5 }' <<<"$ANSWER"
}
for qn in id.server hostname.bind; do
	ask -c CH -t TXT -q "$qn"
	expect_rcode NOERROR "CH TXT $qn with identity set: NOERROR"
	expect_eq "CH TXT $qn: the identity" "$qn. CH TXT \"ns-test-1\"" "$(chaos_fields)"
done
for qn in version.bind version.server; do
	ask -c CH -t TXT -q "$qn"
	expect_rcode NOERROR "CH TXT $qn with version set: NOERROR"
	expect_eq "CH TXT $qn: the version" "$qn. CH TXT \"meridian-test-version\"" "$(chaos_fields)"
done
ask -c CH -t TXT -q ID.SERVER
expect_rcode NOERROR "CH TXT ID.SERVER: matched without case"
ask -c CH -t TXT -q authors.bind
expect_rcode REFUSED "CH TXT authors.bind (not handled): REFUSED"
expect_in EDNS '^; EDE: 21 \(Not Supported\): \(CHAOS: only id.server and version.bind\)$' \
	"CH TXT authors.bind: EDE 21 says what CHAOS answers"
ask -c CH -t A -q id.server
expect_rcode REFUSED "CH A id.server: REFUSED"
expect_in EDNS '^; EDE: 21 \(Not Supported\): \(CHAOS: only TXT\)$' "CH A id.server: EDE 21, only TXT"

# ---- other classes ----------------------------------------------------------------------------------
for cl in HS NONE CLASS42; do
	ask -c "$cl" -t A -q www.example.com
	expect_rcode REFUSED "class $cl: REFUSED"
	expect_no_flag aa "class $cl: AA clear"
	expect_in EDNS '^; EDE: 21 \(Not Supported\): \(class not served\)$' "class $cl: EDE 21"
done

# ---- outside every zone -----------------------------------------------------------------------------
ask www.example.org A
expect_rcode REFUSED "a name outside every zone: REFUSED"
expect_in EDNS '^; EDE: 20 \(Not Authoritative\)$' "a name outside every zone: EDE 20, as NSD and Knot"
ask www.example.org A +noedns
expect_not_in OUT 'EDE' "without EDNS: no OPT, so no EDE"
ask www.example.com A
expect_not_in EDNS 'EDE' "an answer carries no EDE"

# ---- zone transfers ---------------------------------------------------------------------------------
tcp_open
tcp_send "$TFD" "$(header 5a01 0000 1 0 0 0)$(question example.com 252 1)"
if tcp_recv "$TFD"; then
	expect_eq "AXFR over TCP: REFUSED" "5a01 1 5" "$(r_id) $(r_qr) $(r_rcode)"
else
	not_ok "AXFR over TCP: REFUSED" "no reply"
fi
# IXFR carries the client's SOA in authority (RFC 1995): here serial 1, name compressed to the question.
tcp_send "$TFD" "$(header 5a02 0000 1 0 1 0)$(question example.com 251 1)
	c00c 0006 0001 00000000 0016 00 00 00000001 00000000 00000000 00000000 00000000"
if tcp_recv "$TFD"; then
	expect_eq "IXFR over TCP: REFUSED" "5a02 1 5" "$(r_id) $(r_qr) $(r_rcode)"
else
	not_ok "IXFR over TCP: REFUSED" "no reply"
fi
tcp_close "$TFD"
if raw_udp "$(header 5a03 0000 1 0 0 0)$(question example.com 252 1)"; then
	expect_eq "AXFR over UDP: REFUSED" "5a03 1 5" "$(r_id) $(r_qr) $(r_rcode)"
else
	not_ok "AXFR over UDP: REFUSED" "no reply"
fi
out=$(q example.com AXFR +noall +comments 2>&1)
check "dig AXFR: EDE 21 says transfers are not served" \
	grep -q '^; EDE: 21 (Not Supported): (zone transfers are not served)$' <<<"$out"

# ---- CHAOS not configured ---------------------------------------------------------------------------
write_config "$(zones_lua example.com)"
cp "$T_TMP/c1/example.com.zone" "$DIR/"
start_or_bail "$CONF"
for qn in id.server hostname.bind version.bind version.server; do
	ask -c CH -t TXT -q "$qn"
	expect_rcode REFUSED "CH TXT $qn without identity/version configured: REFUSED"
	what=identity
	[[ $qn == version.* ]] && what=version
	expect_in EDNS "^; EDE: 18 \\(Prohibited\\): \\(no $what configured\\)\$" "CH TXT $qn: EDE 18, no $what configured"
done
ask www.example.com A
expect_rcode NOERROR "without CHAOS config: IN queries answered"

check "meridiand still running" alive

# ---- listeners: IPv4 and IPv6 loopback together, as in the issue's minimal config --------------------
if grep -q 'inet6 ::1/' <<<"$(ip -6 addr show dev lo 2>/dev/null)"; then
	write_config "$(zones_lua example.com)" 'listen = { }' # replaced below, once PORT is known
	sed -i "s/^listen = .*/listen = { \"127.0.0.1:$PORT\", \"[::1]:$PORT\" }/" "$CONF"
	cp "$T_TMP/c1/example.com.zone" "$DIR/"
	start_or_bail "$CONF"
	for tr in +notcp +tcp; do
		OUT=$(dig @::1 -p "$PORT" +norec +time=2 +tries=1 "$tr" www.example.com A 2>&1)
		ASKED="@::1 -p $PORT $tr www.example.com A"
		parse_dig "$OUT"
		expect_section ANSWER "listening on [::1] ($tr): answered" <<<'www.example.com. 3600 IN A 192.0.2.1'
	done
	ask www.example.com A
	expect_rcode NOERROR "listening on both: 127.0.0.1 answered too"
fi
finish
