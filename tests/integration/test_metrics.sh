#!/usr/bin/env bash
# test_metrics.sh -- the Prometheus endpoint (metrics = "address:port"): /metrics in the text
# format a scraper reads (tests/tools/promcheck.py), counters that follow the queries, members' states
# that follow their checks and operators, reloads and zone serials; 404 and 405 for the rest; a bad
# address is a config error at file:line, a taken one stops the start, and changing it needs a restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"

PROMCHECK=$ROOT/tests/tools/promcheck.py
MPORT=$("$FREEPORT")
DOWN=$T_TMP/down
mkdir -p "$DOWN"

# conf SERIAL [METRICS_ADDRESS]
conf()
{
	cat >"$CONF" <<CONF
serial = $1
listen = { "127.0.0.1:$PORT" }
workers = 1
metrics = "${2:-127.0.0.1:$MPORT}"
$(zones_lua example.com)
datacenters = { ams = {}, iad = {} }
pools = {
  web = { check = { type = "exec", command = "test ! -e $DOWN/{name}", interval = 0.2, timeout = 0.1,
                    rise = 1, fall = 1, flap_limit = 0 },
          members = { { name = "ams-1", addr = "192.0.2.1", dc = "ams" },
                      { name = "iad-1", addr = "198.51.100.1", dc = "iad" } } },
}
records = { { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "all" } }
CONF
}

# metric NAME_AND_LABELS: the value of one sample ("" when absent)
metric()
{
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

write_config
write_basic_zone
conf 1
start_or_bail "$CONF"
check "the log names the endpoint" grep -q "metrics on http://127.0.0.1:$MPORT/metrics" "$MLOG"

page=$(curl -s -D "$T_TMP/headers" "http://127.0.0.1:$MPORT/metrics")
check "GET /metrics: 200" grep -q '^HTTP/1.1 200' "$T_TMP/headers"
check "GET /metrics: Prometheus's text format 0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T_TMP/headers"
out=$(python3 "$PROMCHECK" <<<"$page")
expect_eq "the page reads as a scraper reads it ($(tail -1 <<<"$out"))" 0 $?
expect_eq "the config serial" 1 "$(metric meridian_config_serial)"
expect_eq "the zone serial" 2024010101 "$(metric 'meridian_zone_serial{zone="example.com"}')"
expect_eq "a member up" 1 "$(metric 'meridian_member_up{pool="web",member="ams-1",dc="ams"}')"
expect_eq "a member serving" 1 "$(metric 'meridian_member_serving{pool="web",member="iad-1",dc="iad"}')"

before=$(metric meridian_queries_total)
udp4_before=$(metric 'meridian_queries_by_transport_total{proto="udp",family="ipv4"}')
a_before=$(metric 'meridian_queries_by_type_total{type="A"}')
for i in 1 2 3 4 5; do q www.example.com A >/dev/null; done
for i in 1 2 3; do q nothing.example.com A >/dev/null; done
q www.example.org A >/dev/null
after=$(metric meridian_queries_total)
expect_eq "9 queries counted" 9 "$((after - before))"
expect_eq "9 of them over UDP from IPv4" 9 \
	"$(($(metric 'meridian_queries_by_transport_total{proto="udp",family="ipv4"}') - udp4_before))"
expect_eq "9 of type A" 9 "$(($(metric 'meridian_queries_by_type_total{type="A"}') - ${a_before:-0}))"
expect_eq "a type not asked yet has no sample" "" "$(metric 'meridian_queries_by_type_total{type="MX"}')"
q +tcp www.example.com MX >/dev/null
q www.example.com TYPE65280 >/dev/null
expect_eq "an MX query over TCP: type MX" 1 "$(metric 'meridian_queries_by_type_total{type="MX"}')"
expect_eq "and TCP from IPv4" 1 "$(metric 'meridian_queries_by_transport_total{proto="tcp",family="ipv4"}')"
expect_eq "a type above CAA counts as other" 1 "$(metric 'meridian_queries_by_type_total{type="other"}')"
expect_eq "nothing over IPv6" 0 "$(metric 'meridian_queries_by_transport_total{proto="udp",family="ipv6"}')"
status=$(ctl status)
check "status shows the transports" grep -Eq '^transports: +udp4 [0-9]+, udp6 0, tcp4 1, tcp6 0$' <<<"$status"
check "status shows the types asked most, most first" grep -Eq '^query types: +A [0-9]+, MX 1, other 1$' <<<"$status"
for t in AAAA TXT NS SOA CAA SRV PTR; do q www.example.com "$t" >/dev/null; done
check "status: past eight types, the rest summed (ties by type number)" grep -Eq \
	'^query types: +A [0-9]+, NS 1, SOA 1, PTR 1, MX 1, TXT 1, AAAA 1, SRV 1 and 2 more types, 2 queries$' \
	<<<"$(ctl status)"
json=$(ctl status --json)
check "status --json has both" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["transports"]["tcp4"] == 1 and d["transports"]["udp6"] == 0, d["transports"]
assert d["query_types"]["MX"] == 1 and d["query_types"]["other"] == 1 and d["query_types"]["A"] >= 9, d["query_types"]
' "$json"
check "NXDOMAIN counted" test "$(metric 'meridian_responses_total{rcode="NXDOMAIN"}')" -ge 3
check "REFUSED counted" test "$(metric 'meridian_responses_total{rcode="REFUSED"}')" -ge 1

touch "$DOWN/ams-1"
if wait_answer api.example.com "198.51.100.1" 10 >/dev/null; then ok "ams-1 failed its check"; else not_ok "ams-1 failed its check" "$(answer api.example.com)"; fi
expect_eq "a member whose check fails: up 0" 0 "$(metric 'meridian_member_up{pool="web",member="ams-1",dc="ams"}')"
expect_eq "and serving 0" 0 "$(metric 'meridian_member_serving{pool="web",member="ams-1",dc="ams"}')"
check "the failed checks are counted" test "$(metric meridian_check_failures_total)" -ge 1
ctl set web/iad-1 down >/dev/null
expect_eq "a member forced down: forced 1" 1 "$(metric 'meridian_member_forced{pool="web",member="iad-1",dc="iad"}')"
expect_eq "the operator's change moved the generation" 2 "$(metric meridian_health_generation)"
ctl set web/iad-1 auto >/dev/null
rm -f "$DOWN/ams-1"

conf 2
check "a reload" ctl reload
expect_eq "an accepted reload counted" 1 "$(metric 'meridian_reloads_total{result="accepted"}')"
expect_eq "the new serial" 2 "$(metric meridian_config_serial)"
conf 3 "127.0.0.1:$("$FREEPORT")"
out=$(ctl reload 2>&1)
expect_eq "a reload changing metrics: refused (exit 1)" 1 $?
check "the refusal says it needs a restart" grep -q 'metrics can only change with a restart' <<<"$out"
expect_eq "a refused reload counted" 1 "$(metric 'meridian_reloads_total{result="refused"}')"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")
expect_eq "another path: 404" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "http://127.0.0.1:$MPORT/metrics")
expect_eq "POST: 405" 405 "$code"
check "HEAD /metrics: 200" grep -q '^HTTP/1.1 200' <<<"$(curl -sI "http://127.0.0.1:$MPORT/metrics")"
# a client that connects and says nothing holds no one up
exec {IDLE}<>/dev/tcp/127.0.0.1/"$MPORT"
expect_eq "a silent client does not block others" 2 "$(metric meridian_config_serial)"
exec {IDLE}>&-
check "meridiand still running" alive

# a bad address: a config error at file:line; a taken one: the start fails and says why
conf 4 "localhost:9153"
out=$("$MERIDIAND" -c "$CONF" --check 2>&1)
check "metrics = \"localhost:9153\": --check names file:line ($out)" \
	grep -qE 'meridian.conf:4: metrics: "localhost:9153": not an IPv4 address' <<<"$out"
stop_meridian
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1', $MPORT)); s.listen(); time.sleep(30)" &
T_PIDS+=($!)
sleep 0.3
conf 5
if start_meridian "$CONF" >/dev/null; then
	not_ok "a taken metrics address stops the start"
else
	ok "a taken metrics address stops the start"
fi
check "and the log says why" grep -q "metrics 127.0.0.1:$MPORT: Address already in use" "$MLOG"
finish
