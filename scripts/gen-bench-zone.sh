#!/usr/bin/env bash
# gen-bench-zone.sh -- write a deterministic benchmark zone in RFC 1035 master format to stdout.
#
#   scripts/gen-bench-zone.sh bench ORIGIN NAMES    example.com-like zone of about NAMES owner names
#   scripts/gen-bench-zone.sh big ORIGIN RECORDS    exactly RECORDS records; the last line is an A
#                                                   record (the loading benchmark waits for it)
#
# bench: hosts hN (A; AAAA on even N; TXT on every 5th; MX on every 50th), CNAMEs cN (to a host,
# every 10th to another CNAME, every 50th out of the zone), a wildcard *.wild, delegations dN with
# two in-zone name servers and their glue. One record per line with relative owners, so the query
# generator (scripts/bench/gen-queries.sh) and every peer's parser read it the same way.
# big: owners hNNNNNNN.ORIGIN written in full; A everywhere but every 20th name, which is a CNAME;
# AAAA on every 4th, MX on every 20th (offset 7), TXT on every 20th (offset 11).
set -euo pipefail

usage() {
	echo "usage: $0 bench ORIGIN NAMES | big ORIGIN RECORDS" >&2
	exit 2
}
[ $# -eq 3 ] || usage
mode=$1 origin=${2%.}. count=$3
if ! [[ $count =~ ^[0-9]+$ ]] || [ "$count" -lt 100 ]; then
	echo "$0: count must be a number >= 100" >&2
	exit 2
fi

header() {
	cat <<EOF
\$ORIGIN $origin
\$TTL 3600
@ 3600 IN SOA ns1.$origin hostmaster.$origin 1 7200 3600 1209600 3600
@ 3600 IN NS ns1.$origin
@ 3600 IN NS ns2.$origin
EOF
}

# bench: 70% hosts, 15% CNAMEs, 15% of the names spent on delegations (3 names each).
gen_bench() {
	header
	awk -v names="$count" 'BEGIN {
		hosts = int(names * 0.70); cnames = int(names * 0.15); cuts = int(names * 0.05);
		print "@ 3600 IN A 192.0.2.1"
		print "@ 3600 IN MX 10 mail"
		print "@ 3600 IN TXT \"v=spf1 mx -all\""
		print "ns1 3600 IN A 192.0.2.53"
		print "ns1 3600 IN AAAA 2001:db8::53"
		print "ns2 3600 IN A 192.0.2.54"
		print "ns2 3600 IN AAAA 2001:db8::54"
		print "mail 3600 IN A 192.0.2.25"
		print "www 3600 IN CNAME h1"
		print "*.wild 3600 IN A 192.0.2.80"
		print "*.wild 3600 IN AAAA 2001:db8::80"
		print "*.wild 3600 IN TXT \"wildcard\""
		for (i = 1; i <= hosts; i++) {
			printf "h%d 3600 IN A 198.%d.%d.%d\n", i, 18 + int(i / 65536), int(i / 256) % 256, i % 256
			if (i % 2 == 0) printf "h%d 3600 IN AAAA 2001:db8:1::%x:%x\n", i, int(i / 65536), i % 65536
			if (i % 5 == 0) printf "h%d 3600 IN TXT \"host %d\"\n", i, i
			if (i % 50 == 0) printf "h%d 3600 IN MX 10 mail\n", i
		}
		for (i = 1; i <= cnames; i++) {
			if (i % 50 == 0) printf "c%d 3600 IN CNAME www.example.net.\n", i
			else if (i % 10 == 0) printf "c%d 3600 IN CNAME c%d\n", i, i - 1
			else printf "c%d 3600 IN CNAME h%d\n", i, (i * 7919) % hosts + 1
		}
		for (i = 1; i <= cuts; i++) {
			printf "d%d 3600 IN NS ns1.d%d\n", i, i
			printf "d%d 3600 IN NS ns2.d%d\n", i, i
			printf "ns1.d%d 3600 IN A 203.0.%d.%d\n", i, int(i / 256) % 256, i % 256
			printf "ns2.d%d 3600 IN A 198.51.%d.%d\n", i, int(i / 256) % 256, i % 256
		}
	}'
}

# big: records counted exactly; the final record is an A for a name of its own.
gen_big() {
	header
	awk -v total="$count" -v origin="$origin" 'BEGIN {
		n = 5
		print "ns1." origin " 3600 IN A 192.0.2.53"
		print "ns2." origin " 3600 IN A 192.0.2.54"
		for (i = 1; n < total - 1; i++) {
			name = sprintf("h%07d.%s", i, origin)
			if (i % 20 == 0) {
				printf "%s 3600 IN CNAME h%07d.%s\n", name, i - 1, origin; n++
				continue
			}
			printf "%s 3600 IN A 10.%d.%d.%d\n", name, int(i / 65536) % 256, int(i / 256) % 256, i % 256; n++
			if (n < total - 1 && i % 4 == 0) { printf "%s 3600 IN AAAA 2001:db8:2::%x:%x\n", name, int(i / 65536), i % 65536; n++ }
			if (n < total - 1 && i % 20 == 7) { printf "%s 3600 IN MX 10 %s\n", name, name; n++ }
			if (n < total - 1 && i % 20 == 11) { printf "%s 3600 IN TXT \"record %d\"\n", name, i; n++ }
		}
		printf "h%07d.%s 3600 IN A 10.255.%d.%d\n", i, origin, int(i / 256) % 256, i % 256
	}'
}

case $mode in
bench) gen_bench ;;
big) gen_big ;;
*) usage ;;
esac
