#!/usr/bin/env bash
# run.sh -- serve the example deployment in the foreground (run by `make run`).
#
#   scripts/run.sh [BUILD_DIR [CONFIG]]      (default: build, zones/meridian.conf)
#
# Prints dig commands to try, chosen from the first zone of the config when it can be read, then
# becomes BUILD_DIR/meridiand -c CONFIG (logs on stderr; Ctrl-C stops it, SIGHUP reloads).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
CONF=${2:-$ROOT/zones/meridian.conf}
DAEMON=$BUILD/meridiand

[ -x "$DAEMON" ] || { echo "run.sh: $DAEMON not built (run make)" >&2; exit 1; }
[ -r "$CONF" ] || { echo "run.sh: cannot read $CONF" >&2; exit 1; }
CONF_DIR=$(cd "$(dirname "$CONF")" && pwd)

# The first listen address of the config: "127.0.0.1:5353" or "[::1]:5353".
listen=$(grep -o '^[[:space:]]*listen[[:space:]]*=.*' "$CONF" | grep -o '"[^"]*"' | head -n 1 | tr -d '"' || true)
addr=127.0.0.1 port=5353
if [[ $listen =~ ^\[(.*)\]:([0-9]+)$ || $listen =~ ^([^:]+):([0-9]+)$ ]]; then
	addr=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
	[ "$addr" = 0.0.0.0 ] && addr=127.0.0.1
	[ "$addr" = :: ] && addr=::1
fi

# The first zone of the config: name and file (relative to the config's folder).
read -r zone zfile < <(awk '
	/name[[:space:]]*=[[:space:]]*"/ && /file[[:space:]]*=[[:space:]]*"/ {
		n = $0; sub(/.*name[[:space:]]*=[[:space:]]*"/, "", n); sub(/".*/, "", n)
		f = $0; sub(/.*file[[:space:]]*=[[:space:]]*"/, "", f); sub(/".*/, "", f)
		print n, f; exit
	}' "$CONF") || true
zone=${zone:-example.com}
zone=${zone%.}
[ -n "${zfile:-}" ] && [ "${zfile:0:1}" != / ] && zfile=$CONF_DIR/$zfile

# "kind owner" lines from the zone: the owners (relative to the zone) of an address, a CNAME, a
# wildcard and a delegation, so the hints name real data. Reads one record per line (the
# continuation lines of a parenthesised record are skipped; a blank owner repeats the last one).
examples() {
	awk -v zone="$zone." '
	function rel(o) {
		o = tolower(o)
		if (o == "@" || o == zone) return "@"
		if (o ~ /\.$/) { if (substr(o, length(o) - length(zone)) != "." zone) return ""
			return substr(o, 1, length(o) - length(zone) - 1) }
		return o
	}
	BEGIN { types = " A AAAA CNAME NS MX TXT SRV SOA DS CAA PTR NAPTR SSHFP TLSA HINFO " }
	inparen { if (index($0, ")")) inparen = 0; next }
	/^\$/ || /^[[:space:]]*(;|$)/ { next }
	{
		line = $0; sub(/;.*/, "", line)
		if (index(line, "(") && !index(line, ")")) inparen = 1
		n = split(line, f, /[[:space:]]+/)
		if (line ~ /^[[:space:]]/) { owner = last; i = 2 } else { owner = rel(f[1]); last = owner; i = 2 }
		for (; i <= n; i++) if (index(types, " " toupper(f[i]) " ")) { t = toupper(f[i]); break }
		if (i > n || owner == "") next
		seen[owner] = 1
		if (owner ~ /^\*\./) { if (!wild) wild = substr(owner, 3); next }
		if (t == "NS" && owner != "@") { if (!(owner in cut)) { cut[owner] = 1; cuts[++ncut] = owner } }
		if (t == "A" && owner != "@" && !a) a = owner
		if (t == "A" && owner == "www") a = "www"
		if (t == "CNAME" && !cname) cname = owner
	}
	END {
		for (k = 1; k <= ncut; k++) if (!ref) ref = cuts[k]
		if (a && !(a in cut)) print "a", a
		if (cname) print "cname", cname
		if (wild) print "wild", wild
		if (ref) print "ref", ref
		for (k = 0; ("nothere" (k ? k : "")) in seen; k++) ;
		print "nx", "nothere" (k ? k : "")
	}' "$1"
}

fq() { [ "$1" = @ ] && echo "$zone" || echo "$1.$zone"; }

d="dig @$addr -p $port"
hints=()
if [ -n "${zfile:-}" ] && [ -r "$zfile" ]; then
	while read -r kind owner; do
		case $kind in
		a) hints+=("$d $(fq "$owner") A|an address") ;;
		cname) hints+=("$d $(fq "$owner") A|a CNAME, followed inside the zone") ;;
		wild) hints+=("$d anything.$(fq "$owner") A|a name made by a wildcard") ;;
		ref) hints+=("$d www.$(fq "$owner") A|a referral to the delegated zone's servers") ;;
		nx) hints+=("$d $(fq "$owner") A|NXDOMAIN, with the SOA for negative caching") ;;
		esac
	done < <(examples "$zfile")
else
	hints+=("$d www.$zone A|an address" "$d nothere.$zone A|NXDOMAIN, with the SOA")
fi
hints+=("$d $zone MX|NODATA or the mail servers")
grep -q '^[[:space:]]*nsid[[:space:]]*=' "$CONF" && hints+=("$d +nsid $zone SOA|the server's NSID (RFC 5001)")
grep -q '^[[:space:]]*version[[:space:]]*=' "$CONF" && hints+=("$d CH TXT version.bind|the version (CHAOS class)")
grep -q '^[[:space:]]*identity[[:space:]]*=' "$CONF" && hints+=("$d CH TXT id.server|the server's identity")
hints+=("$d +tcp $zone SOA|the same over TCP")
# Geo routing: the first dynamic record of the config, asked for clients in two subnets (in the demo
# database, zones/geo, 192.0.2.0/24 is in Europe and 10.8.0.0/16 in Asia).
geo=$(grep -oE 'name[[:space:]]*=[[:space:]]*"[^"]+"[[:space:]]*,[[:space:]]*type[[:space:]]*=' "$CONF" | head -n 1 |
	sed -E 's/^name[[:space:]]*=[[:space:]]*"([^"]+)".*/\1/' || true)
if [ -n "$geo" ]; then
	hints+=("$d +subnet=192.0.2.0/24 $geo|geo: the answer for a client in that subnet (ECS)")
	hints+=("$d +subnet=10.8.0.0/16 $geo|geo: another region, another answer and scope")
	hints+=("$DAEMON -c ${CONF#"$PWD"/} --explain $geo A 192.0.2.7|why (runs no server)")
fi
# Health: meridianctl finds the control socket through the config.
if grep -q 'check[[:space:]]*=' "$CONF"; then
	ctl="$BUILD/meridianctl -c ${CONF#"$PWD"/}"
	hints+=("$ctl health|every member's health, forced state and last check")
	hints+=("$ctl set web/ams-1 down|force a member out (then: ... auto)")
	grep -q 'down-{name}' "$CONF" && hints+=("touch zones/run/down-ams-1|make ams-1's check fail (rm to heal)")
fi

echo "meridian: serving $CONF on $addr port $port. Try:"
w=0
for h in "${hints[@]}"; do c=${h%%|*}; ((${#c} > w && ${#c} <= 72)) && w=${#c}; done
for h in "${hints[@]}"; do printf '  %-*s # %s\n' "$w" "${h%%|*}" "${h#*|}"; done
echo "Reload after editing: kill -HUP <pid>. Stop: Ctrl-C."
echo
exec "$DAEMON" -c "$CONF"
