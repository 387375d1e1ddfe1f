#!/usr/bin/env python3
"""make-corpus-tcp.py -- writes the seed corpus of the TCP fuzz target (tests/fuzz/tcp.h) into
tests/fuzz/corpus-tcp/: streams of framed queries for tests/fuzz/fuzz.conf's zones (one, several
pipelined, answers of 64 KB that fill the socket, a query split across writes), with messages the
server drops (QR set, shorter than a header) or answers with FORMERR, a zero-length frame before
more queries, a frame longer than the stream, and a lone length octet; each with a fast and a slow
reader and small and large writes. Deterministic: run it again to get the same files.

usage: tests/fuzz/make-corpus-tcp.py [FOLDER]   (default: tests/fuzz/corpus-tcp)"""
import hashlib
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("corpus", os.path.join(HERE, "make-corpus.py"))
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)
query = corpus.query


def frame(msg):
    return struct.pack(">H", len(msg)) + msg


def streams():
    www = query("www.example.com", 1, ident=1)
    yield frame(www)
    yield b"".join(frame(query(n, t, ident=i)) for i, (n, t) in enumerate(
        [("www.example.com", 1), ("nothere.example.com", 1), ("alias.example.com", 28),
         ("www.deleg.example.com", 1), ("foo.wild.example.com", 16), ("geo.example.net", 1)]))
    # answers far larger than a socket buffer's share: the server must wait to write them
    big = query("big.example.com", 255, opt=(4096, True, []), ident=7)
    yield frame(big) * 6 + frame(www)
    # dropped (QR set; shorter than a header), FORMERR (two questions), then a good one
    qr = bytearray(www)
    qr[2] |= 0x80
    two = bytearray(www)
    two[5] = 2
    yield frame(bytes(qr)) + frame(b"\x12\x34\x00") + frame(bytes(two)) + frame(www)
    # a zero-length frame closes: what follows is never answered
    yield frame(www) + b"\x00\x00" + frame(www)
    # a frame longer than the stream, and a lone length octet
    yield frame(www) + b"\x01\x00" + www
    yield frame(www) + b"\x00"
    # an EDNS query with a client subnet and a cookie-less NSID
    yield frame(query("geo.example.net", 1, opt=(1232, False, [(3, b""), corpus.ecs(1, 24, bytes([192, 0, 2, 0]))])))


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus-tcp")
    os.makedirs(folder, exist_ok=True)
    for stream in streams():
        for plan in (0x00, 0x01, 0x2A, 0x80, 0x81):  # fast, slow, other sizes, large writes
            data = bytes([plan]) + stream
            with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
