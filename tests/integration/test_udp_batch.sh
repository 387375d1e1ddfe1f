#!/usr/bin/env bash
# test_udp_batch.sh -- many queries in one UDP burst: a UDP thread reads a whole recvmmsg batch ahead
# (query_read, query_prefetch) before answering each; every query of a burst (table hits, zone
# lookups, the general path, truncation, EDNS and not, client subnet, mixed case) gets the same reply
# as when it is sent alone, and oversized datagrams mixed into the burst are dropped without
# disturbing the queries around them (tests/tools/burst.py).
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BURST=$ROOT/tests/tools/burst.py

write_config 'zones = { { name = "example.com", file = "example.com.zone" } }' 'nsid = "batch-ns"'
write_mixed_zone "$DIR" 1 192.0.2.10
start_or_bail "$CONF"

# names x types x kinds of query: hits, CNAME, wildcard, referral, NXDOMAIN, NODATA, other zones,
# ANY and DS (general path), a TXT RRset too big for 512 octets (TC), DO, client subnet, mixed case
Q=$DIR/queries
for name in example.com www.example.com alias.example.com chain.example.com dangling.example.com \
	x.wild.example.com b.ent.example.com host.sub.example.com \
	nothere.example.com mail.example.com big.example.com www.example.net; do
	for type in A AAAA MX TXT ANY DS; do
		for opts in "" "edns=1232" "edns=512 do" "edns=1232 ecs" "case"; do
			echo "$name $type $opts"
		done
	done
done >"$Q"

out=$(timeout 60 python3 "$BURST" "$PORT" "$Q" 2>&1)
rc=$?
n=$(wc -l <"$Q")
expect_eq "a burst of $n queries: each reply the same as alone" "$n queries, $n same, 0 differ, 0 missing" \
	"$(tail -n 1 <<<"$out")"
check "a burst: burst.py exits 0" test "$rc" = 0

out=$(timeout 60 python3 "$BURST" "$PORT" "$Q" 20 2>&1)
expect_eq "a burst with 20 oversized datagrams mixed in: the queries are answered as alone" \
	"$n queries, $n same, 0 differ, 0 missing" "$(tail -n 1 <<<"$out")"
check "meridiand still runs" alive
finish
