#!/usr/bin/env bash
# test_region_counts.sh -- dynamic answers counted by the client's region, as `meridianctl status`
# (text and JSON) and /metrics show them: one per answer whichever thread gave it (UDP or TCP, two
# workers, prepared or general path), none for NODATA, static answers or truncated replies; counts
# kept across a health publication, and by region name across reloads that rename and reorder
# regions (a region a reload removed is listed as earlier, its counter kept).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"

MPORT=$("$FREEPORT")

# conf SERIAL EUROPE_NAME: regions from nets, EUROPE_NAME the name of the first one.
conf()
{
	cat >"$CONF" <<CONF
serial = $1
listen = { "127.0.0.1:$PORT" }
workers = 2
metrics = "127.0.0.1:$MPORT"
$(zones_lua example.com)
regions = {
  $2 = { nets = { "192.0.2.0/24" } },
  asia = { nets = { "198.51.100.0/24" } },
  americas = { nets = { "10.0.0.0/8" } },
}
default_region = "americas"
datacenters = { ams = {}, iad = {}, sin = {} }
pools = {
  web = { members = { { name = "ams-1", addr = "192.0.2.1", dc = "ams" },
                      { name = "iad-1", addr = "198.51.100.1", dc = "iad" },
                      { name = "sin-1", addr = "203.0.113.1", dc = "sin" } } },
  many = { members = {} },
}
for i = 1, 60 do pools.many.members[i] = { name = "m" .. i, addr = "2001:db8::" .. i, dc = "ams" } end
records = {
  { name = "api.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { $2 = { "ams", "iad" }, asia = { "sin", "iad" }, americas = { "iad", "ams" } } },
  { name = "big.example.com", type = "AAAA", pool = "many", ttl = 30, policy = "all" },
}
CONF
}

# metric NAME_AND_LABELS: the value of one sample ("" when absent)
metric()
{
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

region() { metric "meridian_region_answers_total{region=\"$1\"}"; }

write_config
write_basic_zone
conf 1 europe
start_or_bail "$CONF"

expect_eq "nothing counted yet" "0 0 0" "$(region europe) $(region asia) $(region americas)"
for i in 1 2 3; do q +subnet=192.0.2.0/24 api.example.com A >/dev/null; done
q +subnet=198.51.100.7/32 api.example.com A >/dev/null
q +tcp +subnet=198.51.100.0/24 api.example.com A >/dev/null
q api.example.com A >/dev/null # from 127.0.0.1: no net, the default region
expect_eq "answers by region, UDP and TCP" "3 2 1" "$(region europe) $(region asia) $(region americas)"

q +subnet=192.0.2.0/24 api.example.com AAAA >/dev/null # NODATA
q +subnet=192.0.2.0/24 www.example.com A >/dev/null    # static
q +subnet=192.0.2.0/24 +bufsize=512 +ignore big.example.com AAAA >/dev/null # truncated
expect_eq "NODATA, static and truncated answers: not counted" "3 2 1" \
	"$(region europe) $(region asia) $(region americas)"
q +subnet=192.0.2.0/24 +tcp big.example.com AAAA >/dev/null
expect_eq "the retry over TCP is" 4 "$(region europe)"

out=$(python3 "$ROOT/tests/tools/promcheck.py" <<<"$(curl -s "http://127.0.0.1:$MPORT/metrics")")
expect_eq "the page with them reads as a scraper reads it ($(tail -1 <<<"$out"))" 0 $?
check "status lists them" grep -qxF "regions:      europe 4, asia 2, americas 1 (dynamic answers by client region)" \
	<<<"$(ctl status)"
json=$(ctl --json status)
expect_eq "status --json lists them" '[["europe", 4, true], ["asia", 2, true], ["americas", 1, true]]' \
	"$(python3 -c 'import json, sys; print(json.dumps([[r["name"], r["answers"], r["current"]] for r in json.load(sys.stdin)["regions"]]))' <<<"$json")"

# a health publication derives a snapshot from the same load: the counts carry on
ctl set web/ams-1 down >/dev/null
expect_eq "europe fails over to iad" 198.51.100.1 "$(q +short +subnet=192.0.2.0/24 api.example.com A)"
expect_eq "counted across a health publication" 5 "$(region europe)"
ctl set web/ams-1 auto >/dev/null

# many queries over both workers' threads: every one counted once
for i in $(seq 40); do echo "api.example.com A +subnet=198.51.100.$i/32"; done >"$T_TMP/batch"
q -f "$T_TMP/batch" >/dev/null
for i in $(seq 10); do echo "api.example.com A +tcp +subnet=10.0.$i.0/24"; done >"$T_TMP/batch-tcp"
q -f "$T_TMP/batch-tcp" >/dev/null
expect_eq "50 more, each counted once" "42 11" "$(region asia) $(region americas)"

# a reload renames europe to emea and reorders nothing else: europe's count stays, as earlier
conf 2 emea
check "a reload renaming a region" ctl reload
q +subnet=192.0.2.0/24 api.example.com A >/dev/null
expect_eq "the renamed region counts from 0" 1 "$(region emea)"
expect_eq "the removed one keeps its counter" 5 "$(region europe)"
expect_eq "the others carry on" "42 11" "$(region asia) $(region americas)"
check "status: current regions, then earlier ones" grep -qxF \
	"regions:      emea 1, asia 42, americas 11; earlier: europe 5 (dynamic answers by client region)" \
	<<<"$(ctl status)"
# and back: europe's earlier count carries on
conf 3 europe
check "a reload bringing it back" ctl reload
q +subnet=192.0.2.0/24 api.example.com A >/dev/null
check "status after it" grep -qxF \
	"regions:      europe 6, asia 42, americas 11; earlier: emea 1 (dynamic answers by client region)" \
	<<<"$(ctl status)"
check "meridiand still running" alive
finish
