#!/usr/bin/env python3
# model.py -- the geo differential test's own answer key: for each client, the datacenter it should
# get and the shortest ECS scope that is honest for it, worked out from the database, networks.txt
# and regions.txt without asking any DNS server.
#
# usage: model.py DATABASE NETWORKS REGIONS <clients
#   stdin: one client a line, "LABEL ADDRESS/PREFIX" (an ECS client subnet, or a source address as
#   /32 or /128). stdout: one line a client, "LABEL DATACENTER SHORTEST_HONEST_SCOPE ADDRESS...".
#
# A scope S is honest for a client A when every address of A/S gets the same answer (RFC 7871 7.3:
# a resolver may give the answer to any client within the scope). Honesty only gets easier as S
# grows, so the shortest honest scope is the bound: a server's scope must be at least that.
#
# The structure of the database (which networks exist) comes from networks.txt; what each network
# says (continent, country, first subdivision) is read back from the generated database with
# mmdblookup, so this file assumes nothing about how scripts/gen-geo-db.pl writes records. IPv4
# lives at ::ffff:0:0/96 here, as IPv4-mapped IPv6 addresses; aliases of the IPv4 data elsewhere in
# IPv6 (6to4, Teredo, ::/96) are not modelled and no client uses them.
import ipaddress
import subprocess
import sys

MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def to6(net):
    """An ip_network in the 128-bit space (IPv4 as IPv4-mapped)."""
    if net.version == 6:
        return net
    base = int(MAPPED.network_address) + int(net.network_address)
    return ipaddress.ip_network((base, 96 + net.prefixlen))


def mmdb_value(db, addr, *path):
    """A string at path in the record of addr, or None when there is none."""
    out = subprocess.run(["mmdblookup", "-f", db, "-i", addr, *path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.endswith("<utf8_string>"):
            return line.split('"')[1]
    return None


def read_networks(db, path):
    """[(network in 128-bit space, (continent, country, subdivision))] from networks.txt and the db."""
    nets = []
    with open(path) as f:
        for line in f:
            words = line.split("#")[0].split()
            if not words:
                continue
            net = ipaddress.ip_network(words[0])
            first = str(net.network_address)
            codes = (mmdb_value(db, first, "continent", "code"),
                     mmdb_value(db, first, "country", "iso_code"),
                     mmdb_value(db, first, "subdivisions", "0", "iso_code"))
            if codes[0] is None:
                sys.exit(f"model.py: {db} has no continent for {net} (is it the database of {path}?)")
            nets.append((to6(net), codes))
    return nets


def read_regions(path):
    """rules {kind: {value: datacenter}}, the default datacenter, {datacenter: [addresses]}"""
    rules = {"net": {}, "subdivision": {}, "country": {}, "continent": {}}
    default, dcs = None, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#")[0].split()
            if not words:
                continue
            if words[0] == "dc" and len(words) >= 3:
                dcs[words[1]] = words[2:]
            elif words[0] == "region" and len(words) >= 4:
                for rule in words[3:]:
                    if rule == "default":
                        default = words[2]
                        continue
                    kind, _, value = rule.partition(":")
                    if kind not in rules or not value:
                        sys.exit(f"model.py: {path}:{n}: unknown rule {rule}")
                    if kind == "net":
                        value = to6(ipaddress.ip_network(value))
                    rules[kind][value] = words[2]
            else:
                sys.exit(f"model.py: {path}:{n}: expected 'region NAME DC RULE...' or 'dc NAME ADDRESS...'")
    if default is None:
        sys.exit(f"model.py: {path}: no region has the rule 'default'")
    return rules, default, dcs


class Model:
    def __init__(self, networks, rules, default):
        self.networks, self.rules, self.default = networks, rules, default
        self.bounds = [n for n, _ in networks] + list(rules["net"])

    def answer(self, addr):
        """The datacenter of one address (an int in the 128-bit space)."""
        a = ipaddress.ip_address(addr)
        nets = [n for n in self.rules["net"] if a in n]
        if nets:
            return self.rules["net"][max(nets, key=lambda n: n.prefixlen)]
        inside = [(n, c) for n, c in self.networks if a in n]
        if not inside:
            return self.default
        _, (continent, country, subdivision) = max(inside, key=lambda nc: nc[0].prefixlen)
        for kind, value in (("subdivision", f"{country}-{subdivision}"), ("country", country),
                            ("continent", continent)):
            if value in self.rules[kind]:
                return self.rules[kind][value]
        return self.default

    def uniform(self, block):
        """Whether every address of block gets one answer: it is enough to look at the block's
        start and at every network boundary inside it, where the answer can change."""
        lo, hi = int(block.network_address), int(block.broadcast_address)
        points = {lo}
        for n in self.bounds:
            start, end = int(n.network_address), int(n.broadcast_address)
            if start <= hi and end >= lo:
                if start > lo:
                    points.add(start)
                if end < hi:
                    points.add(end + 1)
        return len({self.answer(p) for p in points}) == 1

    def shortest_scope(self, addr, low):
        for s in range(low, 129):
            if self.uniform(ipaddress.ip_network((addr, s), strict=False)):
                return s
        return 128


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: model.py DATABASE NETWORKS REGIONS <clients")
    db, networks_path, regions_path = sys.argv[1:]
    rules, default, dcs = read_regions(regions_path)
    model = Model(read_networks(db, networks_path), rules, default)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        label, client = words[0], ipaddress.ip_network(words[1], strict=False)
        addr = int(to6(client).network_address)
        dc = model.answer(addr)
        if client.version == 4:
            scope = model.shortest_scope(addr, 96) - 96
        else:
            scope = model.shortest_scope(addr, 0)
        print(label, dc, scope, *dcs.get(dc, ["?"]))


main()
