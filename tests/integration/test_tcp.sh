#!/usr/bin/env bash
# test_tcp.sh -- DNS over TCP (RFC 1035 4.2.2, RFC 7766): length framing, several queries on one
# connection, pipelining, partial and slow writes that must not block the worker, the idle timeout,
# and the connection cap that closes the oldest idle connection first.
. "$(dirname "$0")/lib.sh"

write_config "$(zones_lua example.com)" 'tcp_idle_timeout = 1' 'tcp_clients = 2'
write_basic_zone
echo 'www   AAAA  2001:db8::1' >>"$DIR/example.com.zone"
for ((i = 1; i <= 16; i++)); do
	printf 'big TXT "%03d%0197d"\n' "$i" 0 >>"$DIR/example.com.zone"
done
start_or_bail "$CONF"

WWW_A=$(query 0 www.example.com 1)
q_id() # ID: the www A query with that ID
{
	echo "$1${WWW_A:4}"
}

# expect_www_reply DESCRIPTION ID: REPLY answers the www A query with that ID, one answer record.
expect_www_reply()
{
	expect_eq "$1" "$2 1 0 1" "$(r_id) $(r_qr) $(r_rcode) $(r_count 1)"
}

# now_ms: monotonic enough wall clock in milliseconds.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# ---- dig over TCP -----------------------------------------------------------------------------------
ask +tcp www.example.com A
expect_section ANSWER "dig +tcp: answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
expect_flags "qr aa" "dig +tcp: flags qr aa"

out=$(q +tcp +keepopen www.example.com A www.example.com AAAA nothere.example.com A 2>&1)
check "dig +tcp +keepopen: three answers on one connection" \
	test "$(grep -c 'status: ' <<<"$out")" = 3
check "dig +tcp +keepopen: A, AAAA and NXDOMAIN" \
	test "$(grep -oE 'status: [A-Z]+' <<<"$out" | tr '\n' ' ')" = "status: NOERROR status: NOERROR status: NXDOMAIN "
check "dig +tcp +keepopen: the AAAA" grep -qE '^www\.example\.com\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+AAAA[[:space:]]+2001:db8::1$' <<<"$out"

# ---- pipelining: two framed queries in one write ----------------------------------------------------
tcp_open
tcp_send "$TFD" "$(q_id 1111)" "$(header 2222 0000 1 0 0 0)$(question www.example.com 28 1)"
ids=""
for i in 1 2; do
	if tcp_recv "$TFD"; then
		ids+="$(r_id):$(r_rcode):$(r_count 1) "
	else
		ids+="none "
	fi
done
expect_eq "pipelined: both answered (any order), NOERROR, one record each" \
	"1111:0:1 2222:0:1" "$(tr ' ' '\n' <<<"$ids" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')"
tcp_close "$TFD"

# ---- partial and slow writes ------------------------------------------------------------------------
# A half-written query must not hold the worker (workers = 1): UDP and other TCP clients still get answers.
tcp_open
A=$TFD
msg=$(q_id 3333)
len=$(printf '%04x' $((${#msg} / 2)))
tcp_write "$A" "$len${msg:0:10}"
ask www.example.com A
expect_rcode NOERROR "half-written TCP query pending: UDP still answered"
ask +tcp www.example.com AAAA
expect_rcode NOERROR "half-written TCP query pending: another TCP client still answered"
tcp_write "$A" "${msg:10}"
if tcp_recv "$A"; then expect_www_reply "half-written TCP query completed: answered" 3333; else
	not_ok "half-written TCP query completed: answered" "no reply"; fi

# A slow client sends a query a byte at a time.
framed=$len$(q_id 4444)
for ((i = 0; i < ${#framed}; i += 2)); do
	tcp_write "$A" "${framed:i:2}"
	sleep 0.02
done
if tcp_recv "$A"; then expect_www_reply "query written one byte at a time: answered" 4444; else
	not_ok "query written one byte at a time: answered" "no reply"; fi

tcp_close "$A"

# A client that pipelines 4000 queries for a 3.4 kB answer and never reads: about 14 MB of answers pile
# up. The worker must not block on it (workers = 1): UDP and other TCP clients are still answered.
big=$(header 7777 0000 1 0 0 0)$(question big.example.com 16 1)
big=$(printf '%04x' $((${#big} / 2)))$big
tcp_open
S=$TFD
(t_bytes "$(printf "%.0s$big" {1..4000})" >&"$S") 2>/dev/null &
writer=$!
sleep 1
ask www.example.com A
expect_rcode NOERROR "client not reading 14 MB of answers: UDP still answered"
ask +tcp www.example.com AAAA
expect_rcode NOERROR "client not reading 14 MB of answers: another TCP client still answered"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
tcp_close "$S"
ask +tcp www.example.com A
expect_rcode NOERROR "after the non-reading client left: TCP answered"

# ---- idle timeout (tcp_idle_timeout = 1) ------------------------------------------------------------
tcp_open
A=$TFD
sleep 0.5
tcp_send "$A" "$(q_id 5555)"
if tcp_recv "$A"; then expect_www_reply "connection active before the idle timeout: answered" 5555; else
	not_ok "connection active before the idle timeout: answered" "no reply"; fi
t0=$(now_ms)
if tcp_closed "$A" 5; then
	t=$(($(now_ms) - t0))
	ok "idle connection closed by the server"
	check "idle connection closed after about 1 s (took $t ms, allowed 700..3500)" test "$t" -ge 700 -a "$t" -le 3500
else
	not_ok "idle connection closed by the server" "still open after 5 s"
	not_ok "idle connection closed after about 1 s"
fi
tcp_close "$A"

# An idle connection that never sent anything is closed too.
tcp_open
if tcp_closed "$TFD" 5; then ok "connection that never sent a query: closed when idle"; else
	not_ok "connection that never sent a query: closed when idle" "still open after 5 s"; fi
tcp_close "$TFD"

# ---- connection cap (tcp_clients = 2, one worker) ---------------------------------------------------
tcp_open
A=$TFD
tcp_send "$A" "$(q_id 6001)"
tcp_recv "$A" && expect_www_reply "cap: first connection answered" 6001 || not_ok "cap: first connection answered"
sleep 0.2
tcp_open
B=$TFD
tcp_send "$B" "$(q_id 6002)"
tcp_recv "$B" && expect_www_reply "cap: second connection answered" 6002 || not_ok "cap: second connection answered"
sleep 0.2
tcp_open
C=$TFD
tcp_send "$C" "$(q_id 6003)"
if tcp_recv "$C"; then expect_www_reply "cap: third connection (over the cap) answered" 6003; else
	not_ok "cap: third connection (over the cap) answered" "no reply"; fi
if tcp_closed "$A" 0.7; then ok "cap: the oldest idle connection was closed"; else
	not_ok "cap: the oldest idle connection was closed" "still open"; fi
tcp_send "$B" "$(q_id 6004)"
if tcp_recv "$B" 0.7; then expect_www_reply "cap: the younger idle connection was kept and still answers" 6004; else
	not_ok "cap: the younger idle connection was kept and still answers" "no reply"; fi
tcp_close "$A"
tcp_close "$B"
tcp_close "$C"

# Many more connections than the cap, all idle: the server keeps answering new clients.
fds=()
for i in 1 2 3 4 5 6; do
	tcp_open && fds+=("$TFD")
done
ask +tcp www.example.com A
expect_rcode NOERROR "six idle connections over a cap of 2: a new TCP client is answered"
ask www.example.com A
expect_rcode NOERROR "six idle connections over a cap of 2: UDP answered"
for fd in "${fds[@]}"; do
	tcp_close "$fd"
done

# ---- bad framing ------------------------------------------------------------------------------------
tcp_open
tcp_write "$TFD" "0000"
if tcp_closed "$TFD" 3; then ok "zero-length TCP message: connection closed"; else
	not_ok "zero-length TCP message: connection closed" "got data or still open"; fi
tcp_close "$TFD"
tcp_open
tcp_write "$TFD" "0005 0102030405"
tcp_recv "$TFD" 1.5
check "5-byte TCP message: no answer or an error answer, never a crash" test -z "$REPLY" -o "$(r_rcode 2>/dev/null)" = 1
tcp_close "$TFD"
tcp_open
tcp_write "$TFD" "ffff 00000000"
tcp_close "$TFD"

ask +tcp www.example.com A
expect_rcode NOERROR "after bad framing: TCP still answered"
check "meridiand still running" alive
finish
