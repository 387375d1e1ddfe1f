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
# Which network decides an address comes from the database's own search tree, read here and walked
# bit by bit as libmaxminddb walks it (IPv4 lives at ::/96 of the IPv6 tree; IPv4 clients are
# ::ffff:a.b.c.d, which the writer aliases there); what a network's record says (continent, country,
# first subdivision) is read back with mmdblookup, so this file assumes nothing about how
# scripts/gen-geo-db.pl writes records. networks.txt is only checked against the tree.
#
# Aliases of the IPv4 data: a record at network N/d that points back at the ::/96 node makes every
# address of N/d stand for the IPv4 address in its bits [d, d + 32) -- 6to4 (2002::/16, bits
# 16..47) and Teredo (2001::/32, bits 32..63) in MaxMind's files; libmaxminddb follows them without
# knowing. The deployment's rules then apply as meridian documents them: a configured net containing
# the address itself wins; otherwise the address gets the answer of the IPv4 address it stands for,
# configured IPv4 nets included. ::/96 itself, the IPv4 subtree, is such an alias too when reached
# from the root: an IPv4-compatible address ::a.b.c.d (deprecated, RFC 4291) stands for a.b.c.d, as
# the database's own data there says. Not aliases: ::ffff:0:0/96 (the IPv4 clients themselves),
# and NAT64's 64:ff9b::/96, which no MaxMind writer aliases (whatever the tree holds there decides).
import ipaddress
import re
import subprocess
import sys

MAPPED = ipaddress.ip_network("::ffff:0:0/96")
V4BASE = int(MAPPED.network_address)


def to6(net):
    """An ip_network in the 128-bit space (IPv4 as IPv4-mapped)."""
    if net.version == 6:
        return net
    base = V4BASE + int(net.network_address)
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


class Tree:
    """The search tree of a MaxMind DB file (IPv6 trees only), walked as libmaxminddb walks it."""

    def __init__(self, path):
        self.path = path
        meta = subprocess.run(["mmdblookup", "-v", "-f", path, "-i", "::"],
                              capture_output=True, text=True).stdout
        fields = dict(re.findall(r"^\s*(Node count|Record size|IP version):\s*(\S+)", meta, re.M))
        if fields.get("IP version") != "IPv6" or "Node count" not in fields:
            sys.exit(f"model.py: {path}: expected the metadata of an IPv6 MaxMind DB, got:\n{meta}")
        self.nodes = int(fields["Node count"])
        self.bits = int(fields["Record size"])
        with open(path, "rb") as f:
            self.data = f.read(self.nodes * self.bits // 4)
        node = 0
        for _ in range(96):  # the IPv4 subtree: 96 zero bits from the root
            node = self.record(node, 0)
            if node >= self.nodes:
                sys.exit(f"model.py: {path}: no IPv4 subtree at ::/96")
        self.v4root = node

    def record(self, node, bit):
        """The left (0) or right (1) record of a node: < nodes a node, == nodes empty, else data."""
        size = self.bits // 4  # bytes per node
        b = self.data[node * size:(node + 1) * size]
        if self.bits == 24:
            return int.from_bytes(b[3 * bit:3 * bit + 3], "big")
        if self.bits == 28:
            high = b[3] >> 4 if bit == 0 else b[3] & 0x0F
            low = b[0:3] if bit == 0 else b[4:7]
            return high << 24 | int.from_bytes(low, "big")
        return int.from_bytes(b[4 * bit:4 * bit + 4], "big")

    def step(self, value, start, depth):
        """What the record value of network start/depth is: ("node", node to walk on),
        ("alias", depth), ("data", value) or ("none", None)."""
        if value == self.v4root:
            if depth == 96 and start == V4BASE:
                return "node", value  # ::ffff:0:0/96: IPv4 clients, walked in the IPv4 subtree
            if depth == 96 and start == 0:
                return "alias", depth  # ::/96: IPv4-compatible ::a.b.c.d stands for a.b.c.d
            holds = [v >> (128 - depth) << (128 - depth) == start for v in (0, V4BASE)]
            if depth > 96 or any(holds):
                return "none", None  # a cycle, or a network holding ::/96 or ::ffff:0:0/96
            return "alias", depth
        if value < self.nodes:
            return "node", value
        if value == self.nodes:
            return "none", None
        return "data", value

    def find(self, addr):
        """(kind, value, start, depth) of the record deciding addr: kind as step() says."""
        node = 0
        for depth in range(1, 129):
            start = addr >> (128 - depth) << (128 - depth)
            kind, value = self.step(self.record(node, addr >> (128 - depth) & 1), start, depth)
            if kind != "node":
                return kind, value, start, depth
            node = value
        sys.exit(f"model.py: {self.path}: the tree is deeper than 128 bits")

    def leaves(self, lo, hi):
        """(kind, value, start, depth) of every record whose network overlaps [lo, hi]."""
        stack = [(0, 0, 0)]
        while stack:
            node, depth, base = stack.pop()
            for bit in (0, 1):
                start = base | bit << (127 - depth)
                end = start + (1 << (127 - depth)) - 1
                if end < lo or start > hi:
                    continue
                kind, value = self.step(self.record(node, bit), start, depth + 1)
                if kind == "node":
                    stack.append((value, depth + 1, start))
                else:
                    yield kind, value, start, depth + 1


def alias_v4(addr, depth):
    """The IPv4-mapped address an address of an alias at depth stands for."""
    return V4BASE + (addr >> (96 - depth) & 0xFFFFFFFF)


def check_networks(db, tree, path):
    """Every network of networks.txt must have data in the tree (is db the database of path?)."""
    with open(path) as f:
        for line in f:
            words = line.split("#")[0].split()
            if not words:
                continue
            net = to6(ipaddress.ip_network(words[0]))
            if tree.find(int(net.network_address))[0] != "data":
                sys.exit(f"model.py: {db} has no data for {words[0]} (is it the database of {path}?)")


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
    def __init__(self, db, tree, rules, default):
        self.db, self.tree, self.rules, self.default = db, tree, rules, default
        self.codes = {}  # data record -> (continent, country, subdivision)

    def record_codes(self, value, addr):
        if value not in self.codes:
            a = str(ipaddress.IPv6Address(addr))
            self.codes[value] = (mmdb_value(self.db, a, "continent", "code"),
                                 mmdb_value(self.db, a, "country", "iso_code"),
                                 mmdb_value(self.db, a, "subdivisions", "0", "iso_code"))
        return self.codes[value]

    def answer(self, addr):
        """The datacenter of one address (an int in the 128-bit space)."""
        a = ipaddress.ip_address(addr)
        nets = [n for n in self.rules["net"] if a in n]
        if nets:
            return self.rules["net"][max(nets, key=lambda n: n.prefixlen)]
        kind, value, _, depth = self.tree.find(addr)
        if kind == "alias":
            return self.answer(alias_v4(addr, depth))
        if kind != "data":
            return self.default
        continent, country, subdivision = self.record_codes(value, addr)
        for kind, value in (("subdivision", f"{country}-{subdivision}"), ("country", country),
                            ("continent", continent)):
            if value in self.rules[kind]:
                return self.rules[kind][value]
        return self.default

    def points(self, lo, hi):
        """Addresses of [lo, hi] where the answer can change: lo, and every boundary of a
        configured net or a database network inside; inside an alias, the boundaries of what the
        IPv4 addresses it stands for do."""
        points = {lo}

        def bounds(start, end):
            if lo < start <= hi:
                points.add(start)
            if lo <= end < hi:
                points.add(end + 1)

        for n in self.rules["net"]:
            bounds(int(n.network_address), int(n.broadcast_address))
        for kind, _, start, depth in self.tree.leaves(lo, hi):
            bounds(start, start + (1 << (128 - depth)) - 1)
            if kind != "alias":
                continue
            shift = 96 - depth  # the IPv4 address sits above this many bits
            first, last = max(lo, start), min(hi, start + (1 << (128 - depth)) - 1)
            for p in self.points(alias_v4(first, depth), alias_v4(last, depth)):
                q = start | (p - V4BASE) << shift
                if lo < q <= hi:
                    points.add(q)
        return points

    def uniform(self, block):
        """Whether every address of block gets one answer: it is enough to look at the points
        where the answer can change."""
        lo, hi = int(block.network_address), int(block.broadcast_address)
        answers = set()
        for p in sorted(self.points(lo, hi)):
            answers.add(self.answer(p))
            if len(answers) > 1:
                return False
        return True

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
    tree = Tree(db)
    check_networks(db, tree, networks_path)
    model = Model(db, tree, rules, default)
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
