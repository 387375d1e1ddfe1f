#!/usr/bin/env bash
# test_geo_reload.sh -- `ecs = false` and the packet's source address, then SIGHUP reloads of geo
# configs. A region "loop" holds the net 127.0.0.0/8 (and ::1), so the source address of the test's own
# queries picks a region of its own and it shows in the answer.
#   ecs = false: no ECS option in any answer, the source address decides even when ECS is sent;
#   ecs = true (reload): ECS decides, the source address when there is none or its prefix is 0;
#   a reload that changes a record's order changes answers; a reload with a bad dynamic record, or a
#   zone that now clashes with one, fails and the running data keeps serving; back to ecs = false.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=$ROOT/zones/geo/demo-city.mmdb

write_config
PORT6=$PORT

# geo SERIAL ECS EUROPE_DC LOOP_DC [EXTRA_RECORD]: writes $CONF; the www record is on line 22, the extra
# record on line 24.
geo()
{
	cat >"$CONF" <<EOF
serial = $1
listen = { "127.0.0.1:$PORT", "[::1]:$PORT" }
workers = 1
zones = { { name = "example.com", file = "example.com.zone" } }
ecs = $2
geoip = { "$DB" }
regions = {
  europe   = { continents = { "EU", "AF" } },
  americas = { continents = { "NA", "SA" } },
  loop     = { nets = { "127.0.0.0/8", "::1/128" } },
}
default_region = "americas"
datacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = { lat = 38.95, lon = -77.45 }, lo = {} }
pools = {
  web = { members = {
    { name = "ams-1", addr = "192.0.2.10",    dc = "ams" },
    { name = "iad-1", addr = "198.51.100.10", dc = "iad" },
    { name = "lo-1",  addr = "192.0.2.127",   dc = "lo" },
  } },
}
records = {
  { name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "$3" }, americas = { "iad" }, loop = { "$4" } } },
  ${5:-}
}
EOF
}

zone()
{
	write_serial_zone "$1" 'mail  A     192.0.2.25' "${2:-}"
}

ADDR_AMS=192.0.2.10 ADDR_IAD=198.51.100.10 ADDR_LO=192.0.2.127

ecs()
{
	sed -nE 's/.*CLIENT-SUBNET: ([^ ]+).*/\1/p' <<<"$EDNS" | head -n 1
}

# www_is DESCRIPTION ADDRESS ECS [DIG_ARGS...]: www A (asked with DIG_ARGS) answers ADDRESS, and the
# reply's CLIENT-SUBNET is ECS ("-" for none).
www_is()
{
	local desc=$1 addr=$2 want=$3 got
	shift 3
	ask "$@" www.example.com A
	expect_section ANSWER "$desc: www is $addr" <<<"www.example.com. 30 IN A $addr"
	got=$(ecs)
	expect_eq "$desc: CLIENT-SUBNET ${want/#-/none}" "$want" "${got:--}"
}

# reload DESCRIPTION ok|failed
reload()
{
	local n
	n=$(log_count "reload: $2")
	kill -HUP "$MPID"
	if wait_log "reload: $2" "$n" 10; then
		ok "$1: logs reload: $2"
	else
		not_ok "$1: logs reload: $2" "log:"$'\n'"$(cat "$MLOG")"
	fi
}

# ---- ecs = false from the start ------------------------------------------------------------------------
zone 1
geo 1 false ams lo
start_or_bail "$CONF"
www_is "ecs = false, ECS europe 192.0.2.0/24" $ADDR_LO - +subnet=192.0.2.0/24
expect_eq "ecs = false: the reply still has its OPT record" 1 "$HAS_OPT"
expect_rcode NOERROR "ecs = false, ECS sent: NOERROR"
www_is "ecs = false, ECS 2001:db8:1::/48 (europe)" $ADDR_LO - +subnet=2001:db8:1::/48
www_is "ecs = false, plain dig from 127.0.0.1 (loop by net)" $ADDR_LO -
www_is "ecs = false over TCP, ECS europe" $ADDR_LO - +tcp +subnet=192.0.2.0/24
if dig @::1 -p "$PORT6" +norec +time=2 +tries=1 +subnet=192.0.2.0/24 www.example.com A >"$DIR/v6.out" 2>&1; then
	parse_dig "$(cat "$DIR/v6.out")"
	expect_section ANSWER "ecs = false, from ::1 with ECS europe: the source ::1 (loop) decides" <<<"www.example.com. 30 IN A $ADDR_LO"
	expect_eq "ecs = false, from ::1: no ECS" "" "$(ecs)"
else
	not_ok "query over ::1 answered" "$(cat "$DIR/v6.out")"
fi
# with ecs = false the option is not looked at, so a malformed one does not matter either way; the
# server must just answer something sane
q +subnet=10.8.0.0/16 mail.example.com A >/dev/null
check "ecs = false: still running" alive

# ---- reload to ecs = true ------------------------------------------------------------------------------
geo 2 true ams lo
reload "ecs = true" ok
www_is "ecs = true, ECS europe 192.0.2.0/24" $ADDR_AMS 192.0.2.0/24/24 +subnet=192.0.2.0/24
# Without a us_west region both halves of 198.51.100.0/24 are americas, like the default region around
# them: 196.0.0.0/6 is americas throughout (192.0.2.0/24 is europe). 100.64.0.0/10 sits in 96.0.0.0/4,
# which holds no range; 127.0.0.0/8 (loop) stops it at /4.
www_is "ecs = true, ECS americas 198.51.100.128/25" $ADDR_IAD 198.51.100.128/25/6 +subnet=198.51.100.128/25
www_is "ecs = true, ECS in no range (default americas)" $ADDR_IAD 100.64.0.0/10/4 +subnet=100.64.0.0/10
www_is "ecs = true, no ECS: the source 127.0.0.1 (loop)" $ADDR_LO -
www_is "ecs = true, ECS 0.0.0.0/0: the source decides, scope 0" $ADDR_LO 0.0.0.0/0/0 +subnet=0.0.0.0/0
www_is "ecs = true, ECS ::/0: the source decides, scope 0" $ADDR_LO ::/0/0 +subnet=::/0
www_is "ecs = true, ECS 127.0.0.0/8 (the loop net itself)" $ADDR_LO 127.0.0.0/8/8 +subnet=127.0.0.0/8
www_is "ecs = true, ECS 127.1.2.0/24 inside the loop net: scope 8" $ADDR_LO 127.1.2.0/24/8 +subnet=127.1.2.0/24

# ---- a reload that changes the order --------------------------------------------------------------------
geo 3 true iad ams
reload "europe's order becomes iad, loop's ams" ok
www_is "after the reload, ECS europe" $ADDR_IAD 192.0.2.0/24/24 +subnet=192.0.2.0/24
www_is "after the reload, no ECS (loop)" $ADDR_AMS -

# ---- failed reloads keep the running data --------------------------------------------------------------
geo 4 true ams lo '{ name = "www.example.org", type = "A", pool = "web", ttl = 30, policy = "failover" },'
reload "a dynamic record outside every zone" failed
check "the failed reload names the config line of the record" grep -qE 'meridian\.conf:24: ' "$MLOG"
www_is "after the failed reload, ECS europe: still iad" $ADDR_IAD 192.0.2.0/24/24 +subnet=192.0.2.0/24

geo 4 true ams lo
zone 2 'www   A     192.0.2.200'
reload "the zone gains a static www A beside the dynamic one" failed
check "that failed reload names the config line of the record" grep -qE 'meridian\.conf:22: ' "$MLOG"
www_is "after that failed reload, ECS europe: still iad" $ADDR_IAD 192.0.2.0/24/24 +subnet=192.0.2.0/24
ask mail.example.com SOA
expect_count NANSWER 0 "after the failed reloads the zone is still served (mail SOA: NODATA)"
expect_rcode NOERROR "after the failed reloads: mail NOERROR, not REFUSED"

# ---- back to ecs = false, with the zone fixed -------------------------------------------------------------
zone 3
geo 5 false ams lo
reload "ecs = false again" ok
www_is "ecs = false again, ECS europe" $ADDR_LO - +subnet=192.0.2.0/24
check "meridiand still running after the reloads" alive

finish
