#!/usr/bin/env bash
# gen-queries.sh -- write a dnsperf query file ("name type" per line) for a zone to stdout.
#
#   scripts/bench/gen-queries.sh [-n COUNT] [-m MIX] [-s SAMPLES] [-r SEED] ZONEFILE
#
# Reads a zone in the one-record-per-line form scripts/gen-bench-zone.sh writes ($ORIGIN, then
# "owner ttl class type rdata") and draws COUNT queries (default 100000) at random, in a fixed
# order for a given SEED, from these kinds:
#   a       A at a name that has one                  (positive answer)
#   aaaa    AAAA at a name that has one               (positive answer)
#   cname   A at a CNAME                              (CNAME, chased inside the zone)
#   wild    A or AAAA below a wildcard                (synthesised answer)
#   nx      A at a name that does not exist           (NXDOMAIN)
#   nodata  AAAA (else MX) at a name without one      (NODATA)
#   ref     A below a delegation                      (referral with glue)
# MIX gives the weight of each kind (default a=45,aaaa=15,cname=10,wild=5,nx=10,nodata=10,ref=5).
# SAMPLES, when given, receives "kind name type" for the first two queries of every kind, for the
# answer sanity check.
set -euo pipefail

count=100000
mix="a=45,aaaa=15,cname=10,wild=5,nx=10,nodata=10,ref=5"
samples=/dev/null
seed=20240601
while getopts "n:m:s:r:" opt; do
	case $opt in
	n) count=$OPTARG ;;
	m) mix=$OPTARG ;;
	s) samples=$OPTARG ;;
	r) seed=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-n COUNT] [-m MIX] [-s SAMPLES] [-r SEED] ZONEFILE" >&2; exit 2; }

awk -v count="$count" -v mix="$mix" -v samples="$samples" -v seed="$seed" '
function rel(name) {
	if (name == "@" || name == origin) return "@"
	if (substr(name, length(name)) != ".") return name
	if (substr(name, length(name) - length(origin)) == "." origin)
		return substr(name, 1, length(name) - length(origin) - 1)
	return ""			# outside the zone
}
function fqdn(r) { return r == "@" ? origin : r "." origin }
function under_cut(r,   s, i) {		# r is a delegation point or lies below one
	for (s = r; ; s = substr(s, i + 1)) {
		if (s in cut) return 1
		if ((i = index(s, ".")) == 0) return 0
	}
}
function pick(list, n) { return list[int(rand() * n) + 1] }
$1 == "$ORIGIN" { origin = tolower($2); next }
/^[ \t]*(;|$)/ || /^\$/ { next }
{
	if (origin == "") { print "gen-queries: zone has no $ORIGIN" > "/dev/stderr"; exit 2 }
	r = rel(tolower($1)); t = toupper($4)
	if (r == "") next
	if (!(r in seen)) { seen[r] = 1; order[++nowners] = r }
	has[r, t] = 1
	if (t == "NS" && r != "@") cut[r] = 1
}
END {
	if (origin == "") exit 2
	for (k = 1; k <= nowners; k++) {
		r = order[k]
		if (substr(r, 1, 2) == "*.") { wild[++nwild] = substr(r, 3); continue }
		if (under_cut(r)) { if (r in cut) ref[++nref] = r; continue }
		if (has[r, "CNAME"]) { cn[++ncn] = r; continue }
		if (has[r, "A"]) { a[++na] = r; if (!has[r, "AAAA"]) nodata[++nnodata] = r " AAAA" }
		if (has[r, "AAAA"]) aaaa[++naaaa] = r
		if (!has[r, "MX"] && (has[r, "A"] || has[r, "AAAA"])) nodata_mx[++nnodata_mx] = r " MX"
	}
	if (nnodata == 0) { for (k = 1; k <= nnodata_mx; k++) nodata[k] = nodata_mx[k]; nnodata = nnodata_mx }
	size["a"] = na; size["aaaa"] = naaaa; size["cname"] = ncn; size["wild"] = nwild
	size["nx"] = 1; size["nodata"] = nnodata; size["ref"] = nref

	nk = split(mix, parts, ",")
	total = 0
	for (k = 1; k <= nk; k++) {
		split(parts[k], kv, "=")
		if (!(kv[1] in size)) { print "gen-queries: unknown kind " kv[1] > "/dev/stderr"; exit 2 }
		if (size[kv[1]] == 0 && kv[2] > 0) {
			print "gen-queries: the zone has no name for kind " kv[1] > "/dev/stderr"; exit 2
		}
		kind[k] = kv[1]; total += kv[2]; upto[k] = total
	}
	if (total <= 0) { print "gen-queries: empty mix" > "/dev/stderr"; exit 2 }

	srand(seed)
	for (q = 0; q < count; q++) {
		x = rand() * total
		for (k = 1; upto[k] <= x; k++) ;
		c = kind[k]
		if (c == "a") line = fqdn(pick(a, na)) " A"
		else if (c == "aaaa") line = fqdn(pick(aaaa, naaaa)) " AAAA"
		else if (c == "cname") line = fqdn(pick(cn, ncn)) " A"
		else if (c == "wild") line = "q" int(rand() * 1000000) "." fqdn(pick(wild, nwild)) (rand() < 0.5 ? " A" : " AAAA")
		else if (c == "ref") line = "www." fqdn(pick(ref, nref)) " A"
		else if (c == "nodata") { split(pick(nodata, nnodata), nd, " "); line = fqdn(nd[1]) " " nd[2] }
		else {
			do n = "nx" int(rand() * 10000000); while (n in seen)
			line = fqdn(n) " A"
		}
		print line
		if (shown[c]++ < 2) print c, line > samples
	}
}' "$1"
