#!/usr/bin/env bash
# test_prepared.sh -- prepared answers, end to end: the daemon says how many it prepared; every reply
# (header flags, counts and sections, for many names, types and kinds of query, over UDP and TCP;
# NXDOMAIN and NODATA from the zone's negative answer among them; dynamic records asked from each
# region, by client subnet, with the scope echoed) is the same as with prepared_answers = 0; a reload
# with new zone data is answered with the new data; the cap is honoured and said.
. "$(dirname "$0")/lib.sh"

CTL=${CTL:-$BUILD_DIR/meridianctl}
ctl() { "$CTL" -s "$DIR/run/meridian.sock" "$@"; }

# The replies to every query below, without the parts that differ between runs (id, timing).
replies()
{
	local name type opts
	for name in example.com www.example.com WWW.Example.COM alias.example.com chain.example.com \
		dangling.example.com x.wild.example.com b.ent.example.com ent.example.com \
		sub.example.com host.sub.example.com ns.sub.example.com big.example.com nothere.example.com \
		x.ns1.example.com hostmaster.example.com; do
		for type in A AAAA MX TXT NS DS; do
			for opts in "+noedns" "+edns=0 +bufsize=512" "+dnssec +bufsize=1232" "+tcp" "+noedns +rec" \
				"+subnet=198.51.100.0/24" "+nsid"; do
				echo "== $name $type $opts"
				# shellcheck disable=SC2086
				q $opts "$name" "$type" 2>&1 | sed -E '/Query time|WHEN|SERVER|MSG SIZE/d; s/id: [0-9]+/id/; s/^; COOKIE: [0-9a-f]+/; COOKIE: (value)/'
			done
		done
	done
	# dynamic records: the members picked for the client's region; the records of a reply sorted,
	# since failover and all rotate their values per query
	for name in fo.example.com near.example.com all.example.com sticky.example.com cdn.example.com; do
		for type in A AAAA CNAME; do
			for opts in "+noedns" "+subnet=192.0.2.0/24" "+subnet=198.51.100.0/24" \
				"+subnet=198.51.100.128/25" "+subnet=10.9.0.0/17" "+subnet=2001:db8:e::/48" \
				"+subnet=0.0.0.0/0" "+tcp +subnet=198.51.100.130/32" "+dnssec +bufsize=512"; do
				echo "== $name $type $opts"
				# shellcheck disable=SC2086
				q $opts "$name" "$type" 2>&1 | sed -E '/Query time|WHEN|SERVER|MSG SIZE/d; s/id: [0-9]+/id/; s/^; COOKIE: [0-9a-f]+/; COOKIE: (value)/' |
					sort
			done
		done
	done
}

# Regions from nets (office splits asia's /24), one pool in three datacenters, a dynamic record
# for each policy whose values do not depend on the query count (weighted draws by it: the unit
# tests compare those answer by answer with the same count), and a dynamic CNAME whose target is in
# the zone (the chain is followed) for europe and outside it for the others.
cat >"$T_TMP/hash.lua" <<'EOF'
return function(ctx) return { members = meridian.up(ctx.members), select = "hash", answers = 2 } end
EOF
GEO=$(cat <<EOF
regions = {
  europe = { nets = { "192.0.2.0/24", "2001:db8:e::/48" }, lat = 50, lon = 8 },
  asia = { nets = { "198.51.100.0/24" }, lat = 10, lon = 105 },
  office = { nets = { "198.51.100.128/26" }, lat = 40, lon = -75 },
  americas = { nets = { "10.0.0.0/8" }, lat = 40, lon = -100 },
}
default_region = "americas"
datacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = { lat = 38.95, lon = -77.45 },
                sin = { lat = 1.35, lon = 103.99 } }
pools = { web = { members = {
  { name = "ams-1", addr = "192.0.2.10", dc = "ams" }, { name = "ams-2", addr = "192.0.2.11", dc = "ams" },
  { name = "iad-1", addr = "198.51.100.10", dc = "iad" }, { name = "iad-2", addr = "198.51.100.11", dc = "iad" },
  { name = "sin-1", addr = "203.0.113.10", dc = "sin" } } },
  edge = { members = { { name = "ams-e", target = "www.example.com", dc = "ams" },
    { name = "iad-e", target = "edge.example.net", dc = "iad" },
    { name = "sin-e", target = "cdn.edge.com", dc = "sin" } } } }
local order = { europe = { "ams", "iad" }, americas = { "iad", "ams" }, asia = { "sin", "ams" },
                office = { "sin", "iad" } }
records = {
  { name = "fo.example.com", type = "A", pool = "web", ttl = 30, policy = "failover", order = order },
  { name = "near.example.com", type = "A", pool = "web", ttl = 50, policy = "nearest", answers = 2 },
  { name = "all.example.com", type = "A", pool = "web", ttl = 70, policy = "all" },
  { name = "sticky.example.com", type = "A", pool = "web", ttl = 80, policy = "$T_TMP/hash.lua" },
  { name = "cdn.example.com", type = "CNAME", pool = "edge", ttl = 90, policy = "failover", order = order },
}
EOF
)
write_config 'zones = { { name = "example.com", file = "example.com.zone" } }' 'nsid = "unit-ns"' "$GEO"
write_mixed_zone "$DIR" 1 192.0.2.10
start_or_bail "$CONF"
n=$(sed -nE 's/.*prepared answers: ([0-9]+) .*/\1/p' "$MLOG")
check "the log says how many answers were prepared (${n:-none})" test "${n:-0}" -gt 20
check "status says it too" grep -qE "^prepared: +$n answers" <<<"$(ctl status)"
json=$(ctl --json status | python3 -c 'import json,sys; p=json.load(sys.stdin)["prepared"]; print(p["answers"], p["capped"])')
expect_eq "status --json: prepared answers, not capped" "$n False" "$json"
check "explain: www A is a prepared answer" grep -qE "^path: +a plain query .* prepared answers" \
	<<<"$(ctl explain www.example.com A 192.0.2.1)"
check "explain: an NXDOMAIN is one too" grep -qE "^path: +a plain query .* prepared answers" \
	<<<"$(ctl explain nothere.example.com A 192.0.2.1)"
check "explain: a dynamic record is one too, picked per query" \
	grep -qE "^path: +a plain query .* prepared answers \(this record's values .* picked per query\)" \
	<<<"$(ctl explain fo.example.com A 192.0.2.1)"
check "explain: a static answer does not say so" grep -qvE "picked per query" \
	<<<"$(ctl explain www.example.com A 192.0.2.1 | grep '^path:')"
check "explain: ANY takes the general path" grep -qE "^path: +the general path" \
	<<<"$(ctl explain www.example.com ANY 192.0.2.1)"
with_table=$(replies)
check "every query got a reply" test "$(grep -c 'status:' <<<"$with_table")" -eq "$(grep -c '^==' <<<"$with_table")"

# A reload with new data for www: the table is rebuilt with the zones.
write_mixed_zone "$DIR" 2 192.0.2.11
kill -HUP "$MPID"
wait_log 'prepared answers' 1 10
ask www.example.com A
expect_section ANSWER "after a reload, www A is the new address" <<<'www.example.com. 3600 IN A 192.0.2.11'
ask WWW.EXAMPLE.COM A +noedns
expect_section ANSWER "after a reload, in any case" <<<'WWW.EXAMPLE.COM. 3600 IN A 192.0.2.11'
stop_meridian

# The same queries with no table at all give the same replies. dig sends a random client cookie, so
# the COOKIE value differs between runs: only its presence is compared (test_prepared.c and the fuzz
# corpus compare the cookies of both paths byte for byte).
write_mixed_zone "$DIR" 1 192.0.2.10
sed -i 's/^nsid = .*/&\nprepared_answers = 0/' "$CONF"
start_or_bail "$CONF"
check "prepared_answers = 0: nothing is prepared" test "$(log_count 'prepared answers')" -eq 0
check "prepared_answers = 0: explain names no path" test -z "$(ctl explain www.example.com A 192.0.2.1 | grep '^path:')"
without_table=$(replies)
if [ "$with_table" = "$without_table" ]; then
	ok "replies with and without the table are the same ($(grep -c '^==' <<<"$with_table") queries)"
else
	not_ok "replies with and without the table are the same"
	diff <(echo "$with_table") <(echo "$without_table") | head -20 | sed 's/^/#   /'
fi
stop_meridian

# The cap: a few answers, the log says the rest take the general path, and they still answer.
sed -i 's/^prepared_answers = 0/prepared_answers = 3/' "$CONF"
start_or_bail "$CONF"
check "prepared_answers = 3: the log says where it stopped" grep -q 'prepared answers: 3 .*stopped at prepared_answers' "$MLOG"
check "status says where it stopped" grep -qE "^prepared: +3 answers .*stopped at prepared_answers" <<<"$(ctl status)"
capped=$(replies)
if [ "$capped" = "$without_table" ]; then
	ok "replies with a capped table are the same"
else
	not_ok "replies with a capped table are the same"
	diff <(echo "$capped") <(echo "$without_table") | head -20 | sed 's/^/#   /'
fi

finish
