#!/usr/bin/env bash
# test_edns.sh -- EDNS(0) (RFC 6891) and truncation: OPT only when asked, BADVERS, DO echoed,
# unknown options ignored, NSID (RFC 5001), the payload size honoured with TC=1 and a valid,
# empty truncated message, the full answer over TCP.
#
# Project decisions: an answer that does not fit min(client payload, udp_payload) (512 without EDNS)
# gets TC=1 with empty answer, authority and additional sections, and the OPT when the query had one.
. "$(dirname "$0")/lib.sh"

# txt_rrset NAME COUNT: COUNT TXT records of 200 characters each at NAME.
txt_rrset()
{
	local i s
	for ((i = 1; i <= $2; i++)); do
		s=$(printf "%03d%0197d" "$i" 0)
		echo "$1 IN TXT \"$s\""
	done
}

write_zone()
{
	write_basic_zone
	{
		txt_rrset big 16   # about 3.4 kB: more than 1232
		txt_rrset medium 4 # about 860 bytes: more than 512, less than 1232
		txt_rrset small 2  # about 440 bytes: less than 512
	} >>"$DIR/example.com.zone"
}

write_config "$(zones_lua example.com)" 'nsid = "meridian-test-1"' 'udp_payload = 1232'
write_zone
start_or_bail "$CONF"

# ---- OPT presence, version, flags -------------------------------------------------------------------
ask www.example.com A
check "EDNS query: OPT in the answer" test "$HAS_OPT" = 1
expect_in EDNS '^; EDNS: version: 0, flags:; udp: 1232$' "EDNS query: version 0, no flags, our payload 1232"

ask +noedns www.example.com A
check "no EDNS in the query: no OPT in the answer" test "$HAS_OPT" = 0
expect_count NADDITIONAL 0 "no EDNS in the query: ADDITIONAL count 0"
expect_section ANSWER "no EDNS: normal answer" <<<'www.example.com. 3600 IN A 192.0.2.1'

ask +noedns nothere.example.com A
check "no EDNS, NXDOMAIN: no OPT" test "$HAS_OPT" = 0
ask +noedns www.example.org A
check "no EDNS, REFUSED: no OPT" test "$HAS_OPT" = 0
ask www.example.org A
check "EDNS, REFUSED: OPT present" test "$HAS_OPT" = 1

ask +edns=1 +noednsnegotiation www.example.com A
expect_rcode BADVERS "EDNS version 1: BADVERS"
expect_in EDNS '^; EDNS: version: 0,' "BADVERS: our OPT says version 0"
expect_section ANSWER "BADVERS: empty answer" <<<''
ask +edns=255 +noednsnegotiation www.example.com A
expect_rcode BADVERS "EDNS version 255: BADVERS"
# the options of another version are not ours to judge: a malformed ECS or cookie there is no FORMERR
ask +edns=1 +noednsnegotiation +ednsopt=8:0001 www.example.com A
expect_rcode BADVERS "EDNS version 1 with a malformed client subnet: BADVERS"
ask +edns=1 +noednsnegotiation +ednsopt=10:01 www.example.com A
expect_rcode BADVERS "EDNS version 1 with a malformed cookie: BADVERS"
ask +ednsopt=8:0001 www.example.com A
expect_rcode FORMERR "the same client subnet at version 0: FORMERR"

ask +dnssec www.example.com A
expect_in EDNS '^; EDNS: version: 0, flags: do;' "DO set in the query: echoed"
expect_rcode NOERROR "DO set: NOERROR"
ask +dnssec nothere.example.com A
expect_in EDNS 'flags: do;' "DO echoed on NXDOMAIN"
ask www.example.com A
expect_not_in EDNS 'flags:.* do' "DO clear in the query: clear in the answer"

ask +ednsflags=0x0040 www.example.com A
expect_rcode NOERROR "undefined EDNS flag (Z) set: NOERROR"
expect_not_in EDNS 'MBZ' "undefined EDNS flags are not echoed (RFC 6891 6.1.4: Z is set to zero by senders)"

ask +ednsopt=65001:abcd www.example.com A
expect_rcode NOERROR "unknown EDNS option: ignored, NOERROR"
expect_section ANSWER "unknown EDNS option: normal answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
expect_not_in EDNS '65001' "unknown EDNS option: not echoed"

ask +nsid www.example.com A
expect_in EDNS '^; NSID: .*\("meridian-test-1"\)$' "NSID asked and configured: returned"
expect_section ANSWER "NSID: normal answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
ask www.example.com A
expect_not_in EDNS 'NSID' "NSID not asked: not returned"

# RFC 7828: the connection's idle timeout (tcp_idle_timeout, default 10 s) over TCP, nothing over UDP
ask +tcp +keepalive www.example.com A
expect_in EDNS '^; TCP KEEPALIVE: 10.0 secs$' "edns-tcp-keepalive over TCP: the idle timeout returned"
expect_section ANSWER "edns-tcp-keepalive: normal answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
ask +keepalive www.example.com A
expect_not_in EDNS 'KEEPALIVE' "edns-tcp-keepalive over UDP: ignored"

# ---- payload size and truncation --------------------------------------------------------------------
expect_truncated() # DESCRIPTION OPT(0|1)
{
	expect_rcode NOERROR "$1: NOERROR"
	expect_flag tc "$1: TC set"
	expect_count NQUESTION 1 "$1: question kept"
	expect_count NANSWER 0 "$1: empty answer"
	expect_count NAUTHORITY 0 "$1: empty authority"
	expect_count NADDITIONAL "$2" "$1: additional holds only the OPT ($2)"
}

ask +ignore +bufsize=512 big.example.com TXT
expect_truncated "3.4 kB RRset, payload 512" 1
ask +ignore +bufsize=4096 big.example.com TXT
expect_truncated "3.4 kB RRset, client payload 4096, ours 1232" 1
ask +ignore +noedns big.example.com TXT
expect_truncated "3.4 kB RRset, no EDNS" 0
check "3.4 kB RRset, no EDNS, truncated: no OPT" test "$HAS_OPT" = 0

ask +tcp big.example.com TXT
expect_rcode NOERROR "3.4 kB RRset over TCP: NOERROR"
expect_no_flag tc "3.4 kB RRset over TCP: no TC"
expect_count NANSWER 16 "3.4 kB RRset over TCP: all 16 records"
expect_section ANSWER "3.4 kB RRset over TCP: the records" <<<"$(txt_rrset big.example.com. 16 | sed 's/ IN / 3600 IN /')"

ask +ignore +noedns medium.example.com TXT
expect_truncated "860-byte RRset, no EDNS (512)" 0
ask +ignore +bufsize=512 medium.example.com TXT
expect_truncated "860-byte RRset, payload 512" 1
ask +ignore +bufsize=1232 medium.example.com TXT
expect_no_flag tc "860-byte RRset, payload 1232: fits, no TC"
expect_count NANSWER 4 "860-byte RRset, payload 1232: all 4 records"

ask +ignore +bufsize=100 small.example.com TXT
expect_no_flag tc "440-byte answer, payload 100: treated as 512 (RFC 6891 6.2.5), no TC"
expect_count NANSWER 2 "440-byte answer, payload 100: both records"
ask +ignore +noedns small.example.com TXT
expect_no_flag tc "440-byte answer without EDNS: fits 512"

# ---- a server with a larger payload and no NSID -------------------------------------------------------
write_config "$(zones_lua example.com)" 'udp_payload = 4096'
write_zone
start_or_bail "$CONF"

ask www.example.com A
expect_in EDNS 'udp: 4096$' "udp_payload = 4096: advertised"
ask +ignore +bufsize=4096 big.example.com TXT
expect_no_flag tc "udp_payload 4096, client 4096: the 3.4 kB RRset fits"
expect_count NANSWER 16 "udp_payload 4096: all 16 records over UDP"
ask +ignore +bufsize=1232 big.example.com TXT
expect_truncated "udp_payload 4096, client 1232" 1
ask +nsid www.example.com A
expect_not_in EDNS 'NSID' "NSID asked but not configured: none returned"
expect_rcode NOERROR "NSID asked but not configured: NOERROR"

check "meridiand still running" alive
finish
