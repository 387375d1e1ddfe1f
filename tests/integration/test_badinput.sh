#!/usr/bin/env bash
# test_badinput.sh -- malformed queries sent as raw UDP datagrams: the server answers FORMERR where it
# can, drops what it must (responses, QR=1; messages too short to hold a header), answers NOTIMP to
# opcodes other than QUERY, never crashes and never stalls: a normal query is answered afterwards.
#
# RFC 1035 4.1 (format, compression), RFC 6891 6.1.1 (OPT only in additional, more than one OPT is
# FORMERR), RFC 1035 4.1.1 (NOTIMP), RFC 5452 / common practice (responses are never answered).
. "$(dirname "$0")/lib.sh"

write_config "$(zones_lua example.com)"
write_basic_zone
start_or_bail "$CONF"

WWW=$(question www.example.com 1 1)

# expect_formerr DESCRIPTION HEX: the reply is FORMERR with our ID (beef) and QR set.
expect_formerr()
{
	if raw_udp "$2"; then
		expect_eq "$1: FORMERR" "beef 1 1" "$(r_id) $(r_qr) $(r_rcode)"
	else
		not_ok "$1: FORMERR" "no reply within 1 s"
	fi
}

# expect_drop DESCRIPTION HEX: no reply at all.
expect_drop()
{
	if raw_udp "$2"; then
		not_ok "$1: dropped" "got a reply: $REPLY"
	else
		ok "$1: dropped"
	fi
}

# expect_drop_or_formerr DESCRIPTION HEX: too short for a header, either is right.
expect_drop_or_formerr()
{
	if ! raw_udp "$2"; then
		ok "$1: dropped"
	elif [ "${#REPLY}" -ge 24 ] && [ "$(r_qr)/$(r_rcode)" = 1/1 ]; then
		ok "$1: FORMERR"
	else
		not_ok "$1: dropped or FORMERR" "got: $REPLY"
	fi
}

# the good query works, raw
if raw_udp "$(header beef 0000 1 0 0 0)$WWW"; then
	expect_eq "raw well-formed query: NOERROR, one answer" "beef 1 0 1" "$(r_id) $(r_qr) $(r_rcode) $(r_count 1)"
else
	not_ok "raw well-formed query: NOERROR, one answer" "no reply"
fi

# ---- header -----------------------------------------------------------------------------------------
expect_drop_or_formerr "1-byte message" "be"
expect_drop_or_formerr "4-byte message" "beef0000"
expect_drop_or_formerr "11-byte message" "beef0000000100000000000"
expect_drop "QR=1 (a response) with a valid question" "$(header beef 8000 1 0 0 0)$WWW"
expect_drop "QR=1 with an answer record" \
	"$(header beef 8400 1 1 0 0)$WWW c00c 0001 0001 00000e10 0004 c0000201"
expect_drop "QR=1, header only" "$(header beef 8000 0 0 0 0)"

# ---- question ---------------------------------------------------------------------------------------
expect_formerr "QDCOUNT 0" "$(header beef 0000 0 0 0 0)"
expect_formerr "QDCOUNT 2" "$(header beef 0000 2 0 0 0)$WWW$(question example.com 6 1)"
expect_formerr "QDCOUNT 1 but no question" "$(header beef 0000 1 0 0 0)"
expect_formerr "question without type and class" "$(header beef 0000 1 0 0 0)$(hexname www.example.com)"
expect_formerr "question with half a type" "$(header beef 0000 1 0 0 0)$(hexname www.example.com)00"
expect_formerr "label type 01 (0x41)" "$(header beef 0000 1 0 0 0)41 61 00 0001 0001"
expect_formerr "label type 10 (0x81)" "$(header beef 0000 1 0 0 0)81 61 00 0001 0001"
expect_formerr "label length past the end" "$(header beef 0000 1 0 0 0)3f 777777 00 0001 0001"
long=$(printf 'a%.0s' {1..63})
expect_formerr "name of 321 octets (> 255)" \
	"$(header beef 0000 1 0 0 0)$(question "$long.$long.$long.$long.$long" 1 1)"
expect_formerr "name without its terminating root label" "$(header beef 0000 1 0 0 0)03777777"

# ---- compression ------------------------------------------------------------------------------------
expect_formerr "compression pointer to itself" "$(header beef 0000 1 0 0 0)c00c 0001 0001"
# offset 12 points to 14, which points back to 12
expect_formerr "compression loop of two pointers" "$(header beef 0000 1 0 0 0)c00e c00c 0001"
expect_formerr "label then a pointer to its own start" "$(header beef 0000 1 0 0 0)0161 c00c 0001 0001"
expect_formerr "forward compression pointer" \
	"$(header beef 0000 1 0 0 0)c012 0001 0001 $(hexname www.example.com)"
expect_formerr "pointer past the end of the message" "$(header beef 0000 1 0 0 0)c0ff 0001 0001"
expect_formerr "pointer cut in half" "$(header beef 0000 1 0 0 0)c0"

# ---- records after the question, EDNS -------------------------------------------------------------------
expect_formerr "ARCOUNT 1 but no record" "$(header beef 0000 1 0 0 1)$WWW"
expect_formerr "OPT cut short" "$(header beef 0000 1 0 0 1)$WWW 00 0029 04d0 0000"
expect_formerr "OPT in the answer section" "$(header beef 0000 1 1 0 0)$WWW$(opt_rr)"
expect_formerr "OPT in the authority section" "$(header beef 0000 1 0 1 0)$WWW$(opt_rr)"
expect_formerr "two OPT records" "$(header beef 0000 1 0 0 2)$WWW$(opt_rr)$(opt_rr)"
expect_formerr "OPT with RDLENGTH past the end" "$(header beef 0000 1 0 0 1)$WWW 00 0029 04d0 00000000 0010 000a"

# a good EDNS query still works raw, and the answer carries one OPT
if raw_udp "$(header beef 0000 1 0 0 1)$WWW$(opt_rr 1232)"; then
	expect_eq "raw EDNS query: NOERROR, one answer, one additional (OPT)" "beef 0 1 1" \
		"$(r_id) $(r_rcode) $(r_count 1) $(r_count 3)"
else
	not_ok "raw EDNS query: NOERROR, one answer, one additional (OPT)" "no reply"
fi

# errors to EDNS queries carry an OPT (RFC 6891 7), as Knot's do
if raw_udp "$(header beef 0000 0 0 0 1)$(opt_rr 1232)"; then
	expect_eq "QDCOUNT 0 with OPT: FORMERR, no question, one additional (OPT)" "beef 1 0 1" \
		"$(r_id) $(r_rcode) $(r_count 0) $(r_count 3)"
else
	not_ok "QDCOUNT 0 with OPT: FORMERR, no question, one additional (OPT)" "no reply"
fi
if raw_udp "$(header beef 7800 1 0 0 1)$WWW$(opt_rr 1232)"; then
	expect_eq "opcode 15 with OPT: NOTIMP, question echoed, one additional (OPT)" "beef 4 1 1" \
		"$(r_id) $(r_rcode) $(r_count 0) $(r_count 3)"
else
	not_ok "opcode 15 with OPT: NOTIMP, question echoed, one additional (OPT)" "no reply"
fi

# ---- opcodes ----------------------------------------------------------------------------------------
for op in 1 2 3 4 5 6 15; do
	flags=$(printf '%04x' $((op << 11)))
	if raw_udp "$(header beef "$flags" 1 0 0 0)$WWW"; then
		expect_eq "opcode $op: NOTIMP, opcode echoed" "beef 1 4 $op" "$(r_id) $(r_qr) $(r_rcode) $(r_opcode)"
	else
		not_ok "opcode $op: NOTIMP, opcode echoed" "no reply"
	fi
done

# ---- noise ------------------------------------------------------------------------------------------
# 300 random datagrams and 300 valid queries with one random byte changed, sent without waiting.
exec {fd}<>"/dev/udp/127.0.0.1/$PORT"
T_FDS+=("$fd")
good=$(header beef 0000 1 0 0 1)$WWW$(opt_rr 1232)
for ((i = 0; i < 300; i++)); do
	n=$((RANDOM % 300))
	if [ "$n" -gt 0 ]; then
		head -c "$n" /dev/urandom >&"$fd"
	fi
	pos=$((RANDOM % (${#good} / 2) * 2))
	t_bytes "${good:0:pos}$(printf '%02x' $((RANDOM % 256)))${good:pos+2}" >&"$fd"
done
exec {fd}>&-
sleep 0.5
check "after 600 noisy datagrams: meridiand still running" alive

# ---- still serving ----------------------------------------------------------------------------------
ask www.example.com A
expect_rcode NOERROR "after all bad input: a normal UDP query is answered"
expect_section ANSWER "after all bad input: the right answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
ask +tcp www.example.com A
expect_rcode NOERROR "after all bad input: a normal TCP query is answered"
check "meridiand still running" alive
finish
