#!/usr/bin/env bash
# test_ratelimit.sh -- per-client rate limiting over UDP (rate_limit): a flood from one address gets
# its burst answered, then every second response as a bare truncated reply and nothing for the rest;
# the rest of its /24 shares the budget, another /24 and exempt addresses do not; dig from a limited
# network still gets its answer over TCP, which is never limited; the counters are in status and the
# log; a reload changes the limit, turns it into a dry run (counted, everything answered) or off,
# but does not change the table's size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"

FLOOD=$ROOT/tests/tools/flood.py

# conf SERIAL [RATE_LIMIT_LINE]: rewrites $CONF
conf()
{
	cat >"$CONF" <<CONF
serial = $1
listen = { "127.0.0.1:$PORT" }
workers = 1
$(zones_lua example.com)
${2:-}
CONF
}

# flood SOURCE COUNT: sets FULL TC MISSING BAD (tests/tools/flood.py)
flood()
{
	read -r FULL TC MISSING BAD < <(python3 "$FLOOD" "$PORT" "$1" "$2" 2>>"$T_TMP/flood.err")
}

between()
{
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

write_config
write_basic_zone
LIMIT='rate_limit = { rate = 1, burst = 5, slip = 2, exempt = { "127.0.0.3" } }'
conf 1 "$LIMIT"
start_or_bail "$CONF"

flood 127.0.0.1 100
check "a flood of 100: the burst of 5 answered in full (got $FULL)" between "$FULL" 5 6
check "slip 2: every second limited query gets a truncated reply (got $TC)" between "$TC" 46 48
check "the rest get nothing (got $MISSING)" between "$MISSING" 46 49
expect_eq "every reply is a full answer or a bare truncated one" 0 "$BAD"
check "flood.py found nothing wrong" test ! -s "$T_TMP/flood.err"

flood 127.0.0.2 20
check "the same /24 shares the budget: 127.0.0.2 gets at most one full answer (got $FULL)" between "$FULL" 0 1
flood 127.0.1.1 20
expect_eq "another /24 has its own budget: 127.0.1.1 gets its burst" 5 "$FULL"
flood 127.0.0.3 100
expect_eq "an exempt address is never limited: 100 answered" "100 0 0" "$FULL $TC $MISSING"

n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(q -b 127.0.0.1 +tcp www.example.com A +short)" = 192.0.2.1 ] && n=$((n + 1))
done
expect_eq "TCP is not limited: 10 of 10 answered from the limited network" 10 "$n"

st=$(ctl status | grep '^rate limit:')
check "status: the limit and what it did ($st)" grep -qE \
	'^rate limit: +1/s per client network \(burst 5, slip 2\): [1-9][0-9]* unanswered, [1-9][0-9]* sent truncated$' <<<"$st"
check "status --json: the counters" grep -qE '"rate_limited":[1-9][0-9]*,"slipped":[1-9][0-9]*,"dry_limited":0,"dry_slipped":0\}' <<<"$(ctl --json status)"
check "status --json: the limit" grep -q '"rate_limit":{"rate":1,"burst":5,"slip":2,"dry_run":false}' <<<"$(ctl --json status)"
check "status --json: limited queries count by transport and type too" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["transports"]
assert sum(t.values()) == d["queries"]["total"], (t, d["queries"])
assert sum(d["query_types"].values()) == d["queries"]["total"], (d["query_types"], d["queries"])
' "$(ctl --json status)"
if wait_log 'rate limit: [0-9]+ responses unanswered and [0-9]+ sent truncated in the last 10 s' 0 15; then
	ok "the log says what the limit did"
else
	not_ok "the log says what the limit did" "$(cat "$MLOG")"
fi

# slip 1: every limited query truncated, so dig (UDP, from the limited network) retries over TCP
conf 2 'rate_limit = { rate = 1, burst = 1, slip = 1 }'
check "a reload changes the limit" ctl reload
flood 127.0.0.1 30
check "slip 1: every limited query gets a truncated reply (got $TC)" test "$TC" -ge 28 -a "$MISSING" = 0
out=$(q -b 127.0.0.1 www.example.com A +noall +comments +answer 2>&1)
check "dig from a limited network: told to retry over TCP" grep -q 'Truncated, retrying in TCP mode' <<<"$out"
check "dig from a limited network: the answer, over TCP" grep -qE '^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.1$' <<<"$out"

conf 3 'rate_limit = { rate = 1, table_size = 2048 }'
out=$(ctl reload 2>&1)
expect_eq "a reload changing rate_limit.table_size: refused (exit 1)" 1 $?
check "the refusal says it needs a restart" grep -q 'rate_limit.table_size can only change with a restart' <<<"$out"

# a dry run counts what the limit would do and answers everything
conf 3 'rate_limit = { rate = 1, burst = 5, dry_run = true }'
check "a reload to a dry run" ctl reload
before=$(log_count 'rate limit \(dry run\)')
flood 127.0.0.1 100
expect_eq "dry run: 100 answered in full" "100 0 0" "$FULL $TC $MISSING"
st=$(ctl status | grep '^rate limit:')
check "dry run: status says what would have happened ($st)" grep -qE \
	'^rate limit: +1/s per client network \(burst 5, slip 2, dry run\): [0-9]+ unanswered, [0-9]+ sent truncated; dry run: [1-9][0-9]* would have gone unanswered, [1-9][0-9]* truncated$' <<<"$st"
json=$(ctl --json status)
check "dry run: status --json says so" grep -q '"dry_run":true' <<<"$json"
check "dry run: status --json counts apart from real limiting" grep -qE '"dry_limited":[1-9][0-9]*,"dry_slipped":[1-9][0-9]*' <<<"$json"
n_limited=$(sed -nE 's/.*"rate_limited":([0-9]+).*/\1/p' <<<"$json")
flood 127.0.0.1 50
check "dry run: real limiting's counter does not move" grep -q "\"rate_limited\":$n_limited," <<<"$(ctl --json status)"
if wait_log 'rate limit \(dry run\): [0-9]+ responses would have gone unanswered and [0-9]+ truncated' "$before" 15; then
	ok "dry run: the log says what would have happened"
else
	not_ok "dry run: the log says what would have happened" "$(tail -5 "$MLOG")"
fi

conf 4
check "a reload without rate_limit" ctl reload
flood 127.0.0.1 100
expect_eq "rate limiting off: 100 answered" "100 0 0" "$FULL $TC $MISSING"
check "status says it is off (with the dry run's counts)" grep -qE '^rate limit:   off; dry run: [1-9][0-9]* would' <<<"$(ctl status | grep '^rate limit:')"
check "meridiand still running" alive
finish
