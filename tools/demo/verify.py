#!/usr/bin/python3
"""Independent check for the demo: compares every namespace of two MongoDB servers (or a server
and a directory dump) document for document, using Debian's pymongo/bson rather than our code.

usage: verify.py SOURCE_URI (TARGET_URI | DUMP_DIR)
Prints one line per namespace and exits non-zero on any difference.
"""
import gzip
import hashlib
import os
import sys

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

SKIP_DBS = {"admin", "local", "config"}


def server_docs(uri):
    client = MongoClient(uri, document_class=RawBSONDocument)
    out = {}
    for db in client.list_database_names():
        if db in SKIP_DBS:
            continue
        for info in client[db].list_collections():
            if info.get("type", "collection") != "collection" or info["name"].startswith("system."):
                continue
            out[f"{db}.{info['name']}"] = sorted(d.raw for d in client[db][info["name"]].find())
    client.close()
    return out


def dump_docs(root):
    out = {}
    for db in sorted(os.listdir(root)):
        path = os.path.join(root, db)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith(".bson.gz"):
                data, coll = gzip.open(os.path.join(path, name)).read(), name[: -len(".bson.gz")]
            elif name.endswith(".bson"):
                data, coll = open(os.path.join(path, name), "rb").read(), name[: -len(".bson")]
            else:
                continue
            out[f"{db}.{coll}"] = sorted(
                d.raw for d in bson.decode_all(data, bson.CodecOptions(document_class=RawBSONDocument)))
    return out


def digest(docs):
    h = hashlib.sha256()
    for d in docs:
        h.update(d)
    return h.hexdigest()[:16]


def main():
    source = server_docs(sys.argv[1])
    target = dump_docs(sys.argv[2]) if os.path.isdir(sys.argv[2]) else server_docs(sys.argv[2])
    bad = 0
    for ns in sorted(set(source) | set(target)):
        a, b = source.get(ns), target.get(ns)
        ok = a is not None and b is not None and a == b
        bad += 0 if ok else 1
        print(f"  {'ok  ' if ok else 'DIFF'} {ns}: source {len(a or [])} docs {digest(a or [])}, "
              f"target {len(b or [])} docs {digest(b or [])}")
    print(f"verify: {len(source)} namespaces, {bad} different")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
