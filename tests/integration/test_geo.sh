#!/usr/bin/env bash
# test_geo.sh -- geo routing over dig: a client's region (from its EDNS client subnet) picks the answer
# of a dynamic record, and the reply echoes the client subnet with the scope of the map entry that
# decided (RFC 7871 7.2.1). The config is issue 3's example (regions, datacenters, pool web, records
# www/cdn/img) plus a few records and regions that make every case visible in an answer:
#   who.example.com    one member per region, so the answer names the region
#   www AAAA           a dynamic AAAA beside the dynamic A
#   alias.example.com  a dynamic CNAME: to a static name in the zone, out of the zone, to a dynamic name
#   pool.lb            policy "all" with answers = 2 (lb.example.com is an empty non-terminal)
#   img2               policy "weighted" with answers = 2
#   dach               a country region (countries over continents); office has lat/lon of its own
#   x.wild             a dynamic name under a wildcard; shop is a static CNAME to the dynamic www
# Database ranges: zones/geo/README; 6to4 and Teredo clients through the database's aliases of its IPv4
# data. Also ANY, NSID beside ECS, malformed ECS (FORMERR) and --explain.
# ecs = false and reloads: test_geo_reload.sh; config errors: test_geo_check.sh.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DB=$ROOT/zones/geo/demo-city.mmdb

write_config "$(zones_lua example.com)" 'nsid = "geo-test"' "$(
	cat <<EOF
geoip = { "$DB" }
regions = {
  europe   = { continents = { "EU", "AF" } },
  americas = { continents = { "NA", "SA" } },
  asia     = { continents = { "AS", "OC" } },
  us_west  = { subdivisions = { "US-CA", "US-OR", "US-WA" } },
  office   = { nets = { "203.0.113.0/24", "2001:db8:42::/48" }, lat = 1.29, lon = 103.85 },
  dach     = { countries = { "DE", "AT", "CH" } },
}
default_region = "americas"
datacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = { lat = 38.95, lon = -77.45 },
                sin = { lat = 1.35, lon = 103.99 }, sjc = { lat = 37.36, lon = -121.93 },
                fra = { lat = 50.11, lon = 8.68 }, hq = {} }
pools = {
  web = { members = {
    { name = "ams-1", addr = "192.0.2.10",    dc = "ams" },
    { name = "iad-1", addr = "198.51.100.10", dc = "iad", weight = 2 },
    { name = "sin-1", addr = "203.0.113.10",  dc = "sin" },
  } },
  web6 = { members = {
    { name = "ams-6", addr = "2001:db8:a::10", dc = "ams" },
    { name = "iad-6", addr = "2001:db8:b::10", dc = "iad" },
    { name = "sin-6", addr = "2001:db8:c::10", dc = "sin" },
  } },
  probe = { members = {
    { name = "eu",  addr = "192.0.2.101", dc = "ams" },
    { name = "am",  addr = "192.0.2.102", dc = "iad" },
    { name = "as",  addr = "192.0.2.103", dc = "sin" },
    { name = "usw", addr = "192.0.2.104", dc = "sjc" },
    { name = "off", addr = "192.0.2.105", dc = "hq" },
    { name = "de",  addr = "192.0.2.106", dc = "fra" },
  } },
  alias = { members = {
    { name = "ams-c", target = "origin.example.com", dc = "ams" },
    { name = "iad-c", target = "edge.example.net",   dc = "iad" },
    { name = "sin-c", target = "www.example.com",    dc = "sin" },
  } },
}
records = {
  { name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" }, americas = { "iad", "ams" }, asia = { "sin", "ams" } } },
  { name = "cdn.example.com", type = "A", pool = "web", ttl = 30, policy = "nearest", answers = 2 },
  { name = "img.example.com", type = "A", pool = "web", ttl = 60, policy = "weighted" },
  { name = "www.example.com", type = "AAAA", pool = "web6", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" }, americas = { "iad", "ams" }, asia = { "sin", "ams" } } },
  { name = "who.example.com", type = "A", pool = "probe", ttl = 10, policy = "failover",
    order = { europe = { "ams" }, americas = { "iad" }, asia = { "sin" }, us_west = { "sjc" },
              office = { "hq" }, dach = { "fra" } } },
  { name = "alias.example.com", type = "CNAME", pool = "alias", ttl = 20, policy = "failover",
    order = { europe = { "ams" }, americas = { "iad" }, asia = { "sin" } } },
  { name = "pool.lb.example.com", type = "A", pool = "web", ttl = 5, policy = "all", answers = 2 },
  { name = "img2.example.com", type = "A", pool = "web", ttl = 60, policy = "weighted", answers = 2 },
  { name = "x.wild.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams" }, americas = { "iad" }, asia = { "sin" } } },
}
EOF
)"
cat >"$DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@       SOA   ns1 hostmaster 2024010101 7200 3600 1209600 300
@       NS    ns1
ns1     A     192.0.2.53
mail    A     192.0.2.25
origin  A     192.0.2.99
www     TXT   "static data beside the dynamic addresses"
*.wild  A     192.0.2.80
shop    CNAME www
EOF

out=$(timeout 20 "$MERIDIAND" -c "$CONF" --check 2>&1)
rc=$?
expect_eq "geo config: --check exits 0" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'

start_or_bail "$CONF"

# ---- helpers ----------------------------------------------------------------------------------------

# ecs: the CLIENT-SUBNET of the last reply as "address/source/scope", empty when it had none.
ecs()
{
	sed -nE 's/.*CLIENT-SUBNET: ([^ ]+).*/\1/p' <<<"$EDNS" | head -n 1
}

# expect_ecs ADDRESS/SOURCE/SCOPE DESCRIPTION
expect_ecs()
{
	local got
	got=$(ecs)
	if [ "$got" = "$1" ]; then
		ok "$2"
	else
		not_ok "$2" "expected CLIENT-SUBNET: $1"$'\n'"got:                    ${got:-(no ECS option)}"
	fi
}

# from SUBNET NAME TYPE: asks NAME TYPE for a client in SUBNET (dig +subnet).
from()
{
	ask +subnet="$1" "$2" "$3"
}

# region_is SUBNET REGION ADDRESS SCOPE: who.example.com from SUBNET answers ADDRESS (REGION's member)
# with the ECS echoed at SCOPE.
region_is()
{
	from "$1" who.example.com A
	expect_rcode NOERROR "$1 ($2): NOERROR"
	expect_section ANSWER "$1: region $2" <<<"who.example.com. 10 IN A $3"
	expect_ecs "$1/$4" "$1 ($2): ECS echoed with scope $4"
}

# ---- a client from each region: answer and scope ----------------------------------------------------
# Scopes follow the database's ranges merged by region: 10.8/16 JP and 10.9/16 AU are both asia
# (10.8/15), 10.6/16 US-NY and 10.7/16 BR both americas (10.6/15), 198.51.100.0/24 is split into
# us_west and americas halves (/25), 203.0.113.0/24 is the office net.
region_is 192.0.2.0/24 europe 192.0.2.101 24
region_is 198.51.100.128/25 americas 192.0.2.102 25
region_is 10.7.0.0/16 americas 192.0.2.102 15
region_is 10.8.0.0/16 asia 192.0.2.103 15
region_is 10.9.1.0/24 asia 192.0.2.103 15
region_is 10.3.0.0/16 us_west 192.0.2.104 16
region_is 10.10.0.0/16 europe 192.0.2.101 16
region_is 203.0.113.0/24 office 192.0.2.105 24
region_is 10.2.0.0/16 dach 192.0.2.106 16

# The most specific rule wins: a subdivision (US-CA) over its continent (NA), a country (DE) over its
# continent (EU), a net over whatever the database says (203.0.113.0/24 is Tokyo, asia, in the db).
from 198.51.100.0/25 who.example.com A
expect_section ANSWER "198.51.100.0/25 (US-CA): us_west, not americas" <<<'who.example.com. 10 IN A 192.0.2.104'
from 203.0.113.77/32 who.example.com A
expect_section ANSWER "203.0.113.77/32: office by net, not asia by the database" <<<'who.example.com. 10 IN A 192.0.2.105'
expect_ecs 203.0.113.77/32/24 "203.0.113.77/32: scope 24 (the office net), shorter than the source"

# ---- issue 3's www (failover) per region --------------------------------------------------------------
from 192.0.2.0/24 www.example.com A
expect_section ANSWER "www from europe: ams first" <<<'www.example.com. 30 IN A 192.0.2.10'
expect_flags "qr aa" "www from europe: authoritative"
expect_ecs 192.0.2.0/24/24 "www from europe: scope 24"
from 198.51.100.128/25 www.example.com A
expect_section ANSWER "www from americas: iad first" <<<'www.example.com. 30 IN A 198.51.100.10'
from 10.8.0.0/16 www.example.com A
expect_section ANSWER "www from asia: sin first" <<<'www.example.com. 30 IN A 203.0.113.10'
expect_ecs 10.8.0.0/16/15 "www from asia: scope 15"
# us_west, office and dach have no order of their own: they use the default region's (americas).
from 198.51.100.0/25 www.example.com A
expect_section ANSWER "www from us_west: the default region's order (iad)" <<<'www.example.com. 30 IN A 198.51.100.10'
from 203.0.113.0/24 www.example.com A
expect_section ANSWER "www from office: not sin (asia) although the db says Tokyo" <<<'www.example.com. 30 IN A 198.51.100.10'

# ---- the default region -----------------------------------------------------------------------------
# 100.64.0.0/10 is in no database range: default region, and 64.0.0.0/2 holds no range at all.
region_is 100.64.1.1/32 "default (americas)" 192.0.2.102 2
from 100.64.1.0/24 www.example.com A
expect_section ANSWER "www from an address in no range: the default region's iad" <<<'www.example.com. 30 IN A 198.51.100.10'
# Plain dig (no ECS): the source address 127.0.0.1 decides, and it is in no range.
ask who.example.com A
expect_section ANSWER "plain dig from 127.0.0.1: default region" <<<'who.example.com. 10 IN A 192.0.2.102'
expect_eq "plain dig: no ECS option in the reply" "" "$(ecs)"
ask +noedns www.example.com A
expect_section ANSWER "no EDNS at all: default region's www" <<<'www.example.com. 30 IN A 198.51.100.10'
expect_eq "no EDNS: no OPT in the reply" 0 "$HAS_OPT"
# Source prefix 0 (RFC 7871 7.1.2: the client opts out): the source address decides, scope 0.
from 0.0.0.0/0 who.example.com A
expect_section ANSWER "ECS 0.0.0.0/0: the source address decides (default region)" <<<'who.example.com. 10 IN A 192.0.2.102'
expect_ecs 0.0.0.0/0/0 "ECS 0.0.0.0/0: echoed with scope 0"

# ---- IPv6 clients -----------------------------------------------------------------------------------
region_is 2001:db8:1::/48 europe 192.0.2.101 48
region_is 2001:db8:6::/48 asia 192.0.2.103 47
region_is 2001:db8:7:ab00::/56 asia 192.0.2.103 47
region_is 2001:db8:4::/48 americas 192.0.2.102 47
region_is 2001:db8:3::/48 us_west 192.0.2.104 48
region_is 2001:db8:2::/48 dach 192.0.2.106 48
region_is 2001:db8:42::/48 office 192.0.2.105 48
# An IPv6 client network that holds an IPv4-mapped address is still IPv6: its scope counts IPv6 bits
# (120 = 96 + 24), or a resolver would cache the answer for all of ::/24.
region_is ::ffff:192.0.2.0/120 europe 192.0.2.101 120
# 2001:db8:80::/41 holds no range (the nearest is 2001:db8:42::/48): the default region's entry.
region_is 2001:db8:99::/48 "default (americas)" 192.0.2.102 41
from 2001:db8:1::/48 www.example.com A
expect_section ANSWER "IPv6 client in europe: www A from ams" <<<'www.example.com. 30 IN A 192.0.2.10'
from 2001:db8:6::/56 www.example.com A
expect_section ANSWER "IPv6 client in asia: www A from sin" <<<'www.example.com. 30 IN A 203.0.113.10'
expect_ecs 2001:db8:6::/56/47 "IPv6 /56 in asia: scope 47"

# ---- 6to4 and Teredo clients: aliases of the IPv4 data -------------------------------------------------
# The database aliases 2002::/16 (6to4: the IPv4 address is bits 16..47) and 2001::/32 (Teredo: bits
# 32..63, the Teredo server) to its IPv4 data, as mmdblookup reads it: the client gets the region of that
# IPv4 address (configured IPv4 nets included), and the scope counts IPv6 bits: 16 or 32 + the IPv4 scope.
region_is 2002:c000:200::/48 europe 192.0.2.101 40
region_is 2002:c633:6400::/40 us_west 192.0.2.104 41
region_is 2002:cb00:7100::/48 office 192.0.2.105 40
region_is 2001:0:a08:1::/64 asia 192.0.2.103 47
from 2002:c000:200::/48 www.example.com A
expect_section ANSWER "6to4 client of 192.0.2.0 (europe): www A from ams" <<<'www.example.com. 30 IN A 192.0.2.10'
expect_ecs 2002:c000:200::/48/40 "6to4 client: ECS echoed with scope 40 (16 + the IPv4 /24)"
# NAT64's well-known prefix is no MaxMind alias: nothing in the database there, the default region.
region_is 64:ff9b::c000:200/120 "default (americas)" 192.0.2.102 10

# ---- a source network spanning two regions (RFC 7871 7.2.1) ------------------------------------------
from 198.51.100.0/24 who.example.com A
expect_section ANSWER "198.51.100.0/24: the region of its first half (us_west)" <<<'who.example.com. 10 IN A 192.0.2.104'
expect_ecs 198.51.100.0/24/25 "198.51.100.0/24 spans us_west and americas: scope 25, longer than the source"
from 10.8.0.0/14 who.example.com A
expect_ecs 10.8.0.0/14/15 "10.8.0.0/14 (asia, then europe at 10.10): scope 15"
from 2001:db8::/32 www.example.com A
case $(ecs) in
2001:db8::/32/*)
	scope=${OUT##*CLIENT-SUBNET: 2001:db8::/32/}
	scope=${scope%%[!0-9]*}
	check "2001:db8::/32 spans many regions: scope longer than 32 (got $scope)" test "$scope" -gt 32
	;;
*) not_ok "2001:db8::/32: ECS echoed" "got: $(ecs)" ;;
esac

# ---- static answers: scope 0 ------------------------------------------------------------------------
from 192.0.2.0/24 mail.example.com A
expect_section ANSWER "static mail A from europe" <<<'mail.example.com. 3600 IN A 192.0.2.25'
expect_ecs 192.0.2.0/24/0 "static answer: ECS echoed with scope 0"
from 2001:db8:6::/48 mail.example.com A
expect_ecs 2001:db8:6::/48/0 "static answer to an IPv6 client: scope 0"
from 192.0.2.0/24 www.example.com TXT
expect_section ANSWER "www TXT: the static TXT beside the dynamic addresses" <<<'www.example.com. 3600 IN TXT "static data beside the dynamic addresses"'
expect_ecs 192.0.2.0/24/0 "www TXT (static): scope 0"
from 192.0.2.0/24 nothere.example.com A
expect_rcode NXDOMAIN "nothere with ECS: NXDOMAIN"
expect_ecs 192.0.2.0/24/0 "NXDOMAIN: scope 0"

# ---- over TCP ---------------------------------------------------------------------------------------
ask +tcp +subnet=10.8.0.0/16 www.example.com A
expect_section ANSWER "TCP: asia gets sin" <<<'www.example.com. 30 IN A 203.0.113.10'
expect_ecs 10.8.0.0/16/15 "TCP: ECS echoed with scope 15"

# ---- AAAA: a name holding a dynamic A and a dynamic AAAA --------------------------------------------
from 192.0.2.0/24 www.example.com AAAA
expect_section ANSWER "www AAAA from europe: ams" <<<'www.example.com. 30 IN AAAA 2001:db8:a::10'
expect_ecs 192.0.2.0/24/24 "www AAAA: scope 24"
from 198.51.100.128/25 www.example.com AAAA
expect_section ANSWER "www AAAA from americas: iad" <<<'www.example.com. 30 IN AAAA 2001:db8:b::10'
from 2001:db8:7::/48 www.example.com AAAA
expect_section ANSWER "www AAAA from an IPv6 client in asia: sin" <<<'www.example.com. 30 IN AAAA 2001:db8:c::10'
from 10.8.0.0/16 www.example.com A
expect_section ANSWER "www A still answers A beside the AAAA" <<<'www.example.com. 30 IN A 203.0.113.10'

# ---- ANY, case, NSID beside ECS, a dynamic name under a wildcard --------------------------------------
ask +notcp +subnet=10.8.0.0/16 www.example.com ANY
check "ANY over UDP: dig really used UDP" grep -q '(UDP)$' <<<"$OUT"
expect_section ANSWER "ANY over UDP at www: one RRset, the lowest type (the dynamic A)" <<<'www.example.com. 30 IN A 203.0.113.10'
expect_ecs 10.8.0.0/16/15 "ANY over UDP at www: scope 15"
ask +tcp +subnet=10.8.0.0/16 www.example.com ANY
expect_section ANSWER "ANY over TCP at www: dynamic A and AAAA for asia, static TXT" <<'EOF'
www.example.com. 30 IN A 203.0.113.10
www.example.com. 30 IN AAAA 2001:db8:c::10
www.example.com. 3600 IN TXT "static data beside the dynamic addresses"
EOF
expect_ecs 10.8.0.0/16/15 "ANY over TCP at www: scope 15"
from 10.8.0.0/16 WwW.ExAmPlE.CoM A
expect_section ANSWER "mixed-case query: the dynamic answer, the query's case echoed" <<<'WwW.ExAmPlE.CoM. 30 IN A 203.0.113.10'
ask +nsid +subnet=192.0.2.0/24 www.example.com A
expect_in EDNS 'NSID: .*\("geo-test"\)' "NSID asked beside ECS: NSID returned"
expect_ecs 192.0.2.0/24/24 "NSID asked beside ECS: ECS echoed with scope 24"
from 10.8.0.0/16 x.wild.example.com A
expect_section ANSWER "x.wild: the dynamic record, not the wildcard" <<<'x.wild.example.com. 30 IN A 203.0.113.10'
from 10.8.0.0/16 y.wild.example.com A
expect_section ANSWER "y.wild: the wildcard (static)" <<<'y.wild.example.com. 3600 IN A 192.0.2.80'
expect_ecs 10.8.0.0/16/0 "y.wild (static wildcard): scope 0"
from 10.8.0.0/16 www.example.org A
expect_rcode REFUSED "a name outside every zone, with ECS: REFUSED"

# ---- NODATA and NXDOMAIN around dynamic names -------------------------------------------------------
SOA='^example\.com\. 300 IN SOA ns1\.example\.com\. hostmaster\.example\.com\. 2024010101 '
from 192.0.2.0/24 cdn.example.com MX
expect_rcode NOERROR "cdn MX (only a dynamic A there): NOERROR"
expect_count NANSWER 0 "cdn MX: NODATA, empty answer"
expect_in AUTHORITY "$SOA" "cdn MX: SOA in authority at the negative TTL"
expect_ecs 192.0.2.0/24/0 "cdn MX (NODATA): scope 0"
from 192.0.2.0/24 cdn.example.com AAAA
expect_count NANSWER 0 "cdn AAAA (no dynamic AAAA there): NODATA"
expect_in AUTHORITY "$SOA" "cdn AAAA: SOA in authority"
from 192.0.2.0/24 x.cdn.example.com A
expect_rcode NXDOMAIN "x.cdn.example.com: NXDOMAIN below a dynamic name"
expect_in AUTHORITY "$SOA" "x.cdn.example.com: SOA in authority"
from 192.0.2.0/24 lb.example.com A
expect_rcode NOERROR "lb.example.com (empty non-terminal above pool.lb): NOERROR"
expect_count NANSWER 0 "lb.example.com: NODATA"
expect_in AUTHORITY "$SOA" "lb.example.com: SOA in authority"
from 192.0.2.0/24 who.example.com TXT
expect_count NANSWER 0 "who TXT: NODATA"
expect_flags "qr aa" "who TXT: authoritative"

# ---- nearest with answers = 2 -------------------------------------------------------------------------
# Regions rank datacenters by distance from the database's coordinates of their clients (dach: all in
# Frankfurt), or from lat/lon given on the region (office).
from 10.2.0.0/16 cdn.example.com A
expect_section ANSWER "cdn from dach (Frankfurt): ams, then iad" <<'EOF'
cdn.example.com. 30 IN A 192.0.2.10
cdn.example.com. 30 IN A 198.51.100.10
EOF
from 192.0.2.0/24 cdn.example.com A
expect_count NANSWER 2 "cdn from europe: two answers"
expect_in ANSWER '^cdn\.example\.com\. 30 IN A 192\.0\.2\.10$' "cdn from europe: ams among them"
from 10.8.0.0/16 cdn.example.com A
expect_section ANSWER "cdn from asia: sin, then ams" <<'EOF'
cdn.example.com. 30 IN A 203.0.113.10
cdn.example.com. 30 IN A 192.0.2.10
EOF
from 198.51.100.0/25 cdn.example.com A
expect_section ANSWER "cdn from us_west: iad, then ams" <<'EOF'
cdn.example.com. 30 IN A 198.51.100.10
cdn.example.com. 30 IN A 192.0.2.10
EOF
from 203.0.113.0/24 cdn.example.com A
expect_section ANSWER "cdn from office (lat/lon of Singapore on the region): sin, then ams" <<'EOF'
cdn.example.com. 30 IN A 203.0.113.10
cdn.example.com. 30 IN A 192.0.2.10
EOF
expect_ecs 203.0.113.0/24/24 "cdn from office: scope 24"

# ---- dynamic CNAME ----------------------------------------------------------------------------------
from 192.0.2.0/24 alias.example.com A
expect_section ANSWER "alias from europe: CNAME to origin, chain followed in the zone" <<'EOF'
alias.example.com. 20 IN CNAME origin.example.com.
origin.example.com. 3600 IN A 192.0.2.99
EOF
expect_ecs 192.0.2.0/24/24 "alias from europe: scope 24"
from 198.51.100.128/25 alias.example.com A
expect_section ANSWER "alias from americas: CNAME out of the zone, not followed" <<'EOF'
alias.example.com. 20 IN CNAME edge.example.net.
EOF
expect_rcode NOERROR "alias from americas: NOERROR"
expect_flags "qr aa" "alias from americas: authoritative"
from 10.8.0.0/16 alias.example.com A
expect_section ANSWER "alias from asia: CNAME to the dynamic www, answered for the same region" <<'EOF'
alias.example.com. 20 IN CNAME www.example.com.
www.example.com. 30 IN A 203.0.113.10
EOF
from 10.8.0.0/16 shop.example.com A
expect_section ANSWER "static CNAME shop -> dynamic www, from asia: chain followed into the dynamic A" <<'EOF'
shop.example.com. 3600 IN CNAME www.example.com.
www.example.com. 30 IN A 203.0.113.10
EOF
expect_ecs 10.8.0.0/16/15 "static CNAME to a dynamic A: the answer depends on the client, scope 15"
from 192.0.2.0/24 shop.example.com AAAA
expect_section ANSWER "static CNAME shop -> dynamic www AAAA, from europe" <<'EOF'
shop.example.com. 3600 IN CNAME www.example.com.
www.example.com. 30 IN AAAA 2001:db8:a::10
EOF
from 192.0.2.0/24 alias.example.com CNAME
expect_section ANSWER "alias CNAME query: just the CNAME" <<<'alias.example.com. 20 IN CNAME origin.example.com.'
from 192.0.2.0/24 alias.example.com AAAA
expect_section ANSWER "alias AAAA from europe: CNAME, origin has no AAAA" <<<'alias.example.com. 20 IN CNAME origin.example.com.'
expect_in AUTHORITY "$SOA" "alias AAAA: NODATA at the target, SOA in authority"

# ---- weighted: roughly by weight (ams 1, iad 2, sin 1) -----------------------------------------------
# collect NAME N SUBNET: asks NAME A N times in one dig run; one line per answer, the addresses sorted
# and joined with ",".
collect()
{
	local i
	for ((i = 0; i < $2; i++)); do echo "$1 A"; done >"$DIR/batch"
	q +subnet="$3" +noall +answer +comments -f "$DIR/batch" | awk '
		function flush(   i, j, t, s) {
			if (!started) return
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			s = ""
			for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") a[i]
			print s
			n = 0
		}
		/->>HEADER<<-/ { flush(); started = 1; next }
		$4 == "A" { a[++n] = $5 }
		END { flush() }'
}
mapfile -t W < <(collect img.example.com 300 192.0.2.0/24)
expect_eq "weighted: 300 answers" 300 "${#W[@]}"
n_ams=0 n_iad=0 n_sin=0 bad=0
for a in "${W[@]}"; do
	case $a in
	192.0.2.10) n_ams=$((n_ams + 1)) ;;
	198.51.100.10) n_iad=$((n_iad + 1)) ;;
	203.0.113.10) n_sin=$((n_sin + 1)) ;;
	*) bad=$((bad + 1)) ;;
	esac
done
expect_eq "weighted: every answer is exactly one pool member" 0 "$bad"
desc="weighted: ams/iad/sin = $n_ams/$n_iad/$n_sin of 300, expected about 75/150/75"
check "$desc" test "$n_ams" -ge 35 -a "$n_ams" -le 120 -a "$n_iad" -ge 105 -a "$n_iad" -le 200 \
	-a "$n_sin" -ge 35 -a "$n_sin" -le 120 -a "$n_iad" -gt "$n_ams" -a "$n_iad" -gt "$n_sin"

mapfile -t W < <(collect img2.example.com 60 10.8.0.0/16)
two=0
for a in "${W[@]}"; do
	[[ $a =~ ^([0-9.]+),([0-9.]+)$ ]] && [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] && two=$((two + 1))
done
if [ "${#W[@]} $two" = "60 60" ]; then
	ok "weighted, answers = 2: 60 answers of two distinct members"
else
	not_ok "weighted, answers = 2: 60 answers of two distinct members" \
		"${#W[@]} answers, $two of two distinct members; the others: $(printf '%s\n' "${W[@]}" |
			grep -vE '^[0-9.]+,[0-9.]+$' | head -5 | sed 's/^$/(no address)/' | tr '\n' ' ')"
	q +subnet=10.8.0.0/16 img2.example.com A >"$DIR/img2.dig" 2>&1
	echo "#   a query now:" && sed 's/^/#   | /' "$DIR/img2.dig"
fi
members=$(printf '%s\n' "${W[@]}" | tr ',' '\n' | sort -u | tr '\n' ' ')
expect_eq "weighted, answers = 2: every member drawn" "192.0.2.10 198.51.100.10 203.0.113.10 " "$members"

# ---- all with answers = 2: a rotating window ----------------------------------------------------------
mapfile -t W < <(collect pool.lb.example.com 30 192.0.2.0/24)
two=0 changes=0 prev=""
for a in "${W[@]}"; do
	[[ $a =~ ^([0-9.]+),([0-9.]+)$ ]] && [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] && two=$((two + 1))
	[ -n "$prev" ] && [ "$a" != "$prev" ] && changes=$((changes + 1))
	prev=$a
done
expect_eq "all, answers = 2: 30 answers of two members each" "30 30" "${#W[@]} $two"
sets=$(printf '%s\n' "${W[@]}" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
nsets=$(printf '%s\n' "${W[@]}" | sort -u | wc -l)
expect_eq "all, answers = 2: the window rotates over all three pairs ($sets)" 3 "$nsets"
check "all, answers = 2: consecutive answers differ mostly ($changes of 29 changes)" test "$changes" -ge 15
low=$(printf '%s\n' "${W[@]}" | sort | uniq -c | awk 'NR == 1 || $1 < m { m = $1 } END { print m + 0 }')
check "all, answers = 2: each pair served at least 5 times of 30 ($sets)" test "$low" -ge 5

# ---- malformed ECS: FORMERR (RFC 7871 6) --------------------------------------------------------------
# ecs_query FAMILY SOURCE SCOPE ADDRESS_HEX [OPTION_LENGTH]: www.example.com A with an OPT record that
# holds one ECS option; the option length defaults to the right one.
ecs_query()
{
	local addr=${4// /} len
	len=${5:-$((4 + ${#addr} / 2))}
	printf '%s%s00 0029 04d0 00000000 %04x 0008 %04x %04x %02x %02x %s' \
		"$(header beef 0000 1 0 0 1)" "$(question www.example.com 1 1)" $((4 + len)) "$len" \
		"$1" "$2" "$3" "$addr"
}
# raw_rcode DESCRIPTION RCODE HEX
raw_rcode()
{
	if raw_udp "$3"; then
		expect_eq "$1" "beef 1 $2" "$(r_id) $(r_qr) $(r_rcode)"
	else
		not_ok "$1" "no reply within 1 s"
	fi
}

raw_rcode "raw ECS 192.0.2.0/24: NOERROR" 0 "$(ecs_query 1 24 0 c00002)"
check "raw ECS 192.0.2.0/24: the europe answer (ams)" grep -q 'c000020a' <<<"$REPLY"
raw_rcode "raw ECS 0.0.0.0/0 without address octets: NOERROR" 0 "$(ecs_query 1 0 0 '')"
raw_rcode "raw ECS 2001:db8:6::/48: NOERROR" 0 "$(ecs_query 2 48 0 20010db80006)"
check "raw ECS 2001:db8:6::/48: the asia answer (sin)" grep -q 'cb00710a' <<<"$REPLY"
raw_rcode "raw ECS 2001:db8:6::/47 (option length 10): NOERROR" 0 "$(ecs_query 2 47 0 20010db80006)"
raw_rcode "ECS family 3: FORMERR" 1 "$(ecs_query 3 24 0 c00002)"
raw_rcode "ECS family 0: FORMERR" 1 "$(ecs_query 0 24 0 c00002)"
raw_rcode "ECS IPv4 source prefix 33: FORMERR" 1 "$(ecs_query 1 33 0 c000020080)"
raw_rcode "ECS IPv6 source prefix 129: FORMERR" 1 "$(ecs_query 2 129 0 20010db800000000000000000000000000)"
raw_rcode "ECS /24 with 4 address octets (host bits sent): FORMERR" 1 "$(ecs_query 1 24 0 c0000201)"
raw_rcode "ECS /24 with 4 address octets, the last zero (too many): FORMERR" 1 "$(ecs_query 1 24 0 c0000200)"
raw_rcode "ECS /24 with 2 address octets (too few): FORMERR" 1 "$(ecs_query 1 24 0 c000)"
raw_rcode "ECS /20 with a bit set beyond the prefix: FORMERR" 1 "$(ecs_query 1 20 0 c00012)"
raw_rcode "ECS IPv6 /47 with bit 48 set: FORMERR" 1 "$(ecs_query 2 47 0 20010db80007)"
raw_rcode "ECS IPv6 /55 with bit 56 set: FORMERR" 1 "$(ecs_query 2 55 0 20010db8000601)"
raw_rcode "ECS option shorter than its fixed part: FORMERR" 1 \
	"$(header beef 0000 1 0 0 1)$(question www.example.com 1 1)00 0029 04d0 00000000 0006 0008 0002 0001"
raw_rcode "ECS with a source prefix but no address: FORMERR" 1 "$(ecs_query 1 8 0 '')"
# and the server still answers afterwards
from 192.0.2.0/24 www.example.com A
expect_section ANSWER "after malformed ECS: www from europe still answers" <<<'www.example.com. 30 IN A 192.0.2.10'

# ---- --explain ----------------------------------------------------------------------------------------
# explain DESCRIPTION NAME TYPE CLIENT REGEX...: --explain exits 0 and prints a line matching each REGEX.
explain()
{
	local desc=$1 out rc re miss=""
	out=$(timeout 20 "$MERIDIAND" -c "$CONF" --explain "$2" "$3" "$4" 2>&1)
	rc=$?
	shift 4
	for re in "$@"; do
		grep -qE -- "$re" <<<"$out" || miss+="  $re"$'\n'
	done
	ASKED=""
	if [ "$rc" = 0 ] && [ -z "$miss" ]; then
		ok "$desc"
	else
		not_ok "$desc" "exit $rc; missing lines:"$'\n'"$miss""output:"$'\n'"$out"
	fi
}
explain "--explain www A 192.0.2.7: europe by continent, order ams iad, ams, scope 24" \
	www.example.com A 192.0.2.7 '^region: +europe \(continent EU\)' '^order: +ams iad$' \
	'policy failover' '^answer: +www\.example\.com\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.10$' \
	'^scope: +/24'
explain "--explain www A 198.51.100.7: us_west by subdivision, the default order, scope 25" \
	www.example.com A 198.51.100.7 '^region: +us_west \(subdivision US-CA\)' '^order: +iad ams$' \
	'A[[:space:]]+198\.51\.100\.10$' '^scope: +/25'
explain "--explain www A 203.0.113.9: office by net" \
	www.example.com A 203.0.113.9 '^region: +office \(net 203\.0\.113\.0/24\)' '^scope: +/24'
explain "--explain who A 10.2.3.4: dach by country" \
	who.example.com A 10.2.3.4 '^region: +dach \(country DE\)' 'A[[:space:]]+192\.0\.2\.106$' '^scope: +/16'
explain "--explain www A 100.64.1.1: the default region" \
	www.example.com A 100.64.1.1 '^region: +americas \(default' '^order: +iad ams$' '^scope: +/2( |$)'
explain "--explain cdn A 2001:db8:6::/48: nearest, sin before ams before iad, two answers, scope 47" \
	cdn.example.com A 2001:db8:6::/48 '^region: +asia \(continent AS\)' 'policy nearest' 'answers 2' \
	'^order: +sin( [a-z]+)* ams( [a-z]+)* iad( |$)' 'A[[:space:]]+203\.0\.113\.10$' 'A[[:space:]]+192\.0\.2\.10$' '^scope: +/47'
explain "--explain www A 2002:c000:200::/48: europe through the 6to4 alias of 192.0.2.0, scope 40" \
	www.example.com A 2002:c000:200::/48 '^region: +europe \(continent EU via 6to4 192\.0\.2\.0/32\)' \
	'^order: +ams iad$' 'A[[:space:]]+192\.0\.2\.10$' '^scope: +/40( |$)'
explain "--explain who A 2001:0:cb00:7100::/56: office through the Teredo alias of 203.0.113.0/24" \
	who.example.com A 2001:0:cb00:7100::/56 '^region: +office \(net 203\.0\.113\.0/24 via Teredo 203\.0\.113\.0/24\)' \
	'A[[:space:]]+192\.0\.2\.105$' '^scope: +/56( |$)'
explain "--explain www A ::203.0.113.9: an IPv4-compatible client stands for 203.0.113.9, office by net" \
	www.example.com A ::203.0.113.9 '^region: +office \(net 203\.0\.113\.0/24 via IPv4-compatible 203\.0\.113\.9/32\)' \
	'^scope: +/120( |$)'
explain "--explain mail A 192.0.2.7: static data, scope 0" \
	mail.example.com A 192.0.2.7 '^record: +static' 'A[[:space:]]+192\.0\.2\.25$' '^scope: +/0'
out=$(timeout 20 "$MERIDIAND" -c "$CONF" --explain www.example.com A not-an-address 2>&1)
expect_eq "--explain with a bad client address: exit 1" 1 "$?"
out=$(timeout 20 "$MERIDIAND" -c "$CONF" --explain www.example.com A 203.0.113.200/24 2>&1)
expect_eq "--explain with host bits beyond the prefix: exit 1" 1 "$?"
check "--explain with host bits beyond the prefix: says which network" \
	grep -q "address bits set beyond /24; the network is 203.0.113.0/24" <<<"$out"

check "meridiand still running after the geo queries" alive

finish
