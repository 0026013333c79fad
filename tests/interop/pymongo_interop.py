#!/usr/bin/python3
"""Interop of minimongod with pymongo (Debian's python3-pymongo): writes and reads varied
documents, indexes, catalog listings and duplicate-key errors through the official driver.

Usage: /usr/bin/python3 pymongo_interop.py MONGODB_URI
Prints one line per failed check and a final "N passed, M failed"; exits 1 on any failure.
"""
import argparse
import datetime
import random
import sys
import traceback
import uuid

import bson
import pymongo
from bson.binary import Binary
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from bson.son import SON
from bson.timestamp import Timestamp
from pymongo import uri_parser
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

DB = "interop_py"
DOC_COUNT = 3000
SEED = 20240611
DUPLICATE_KEY = 11000
AUTHENTICATION_FAILED = 18

WORDS = ["alpha", "béta", "γάμμα", "дельта", "エプシロン", "zeta", "😀 emoji", "", "tab\there", "quote\"s"]


class Checks:
    """Counts checks; a failed check prints its message and the run goes on."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, message):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {message}", flush=True)
        return ok

    def run(self, name, fn, *args):
        try:
            fn(self, *args)
        except Exception:  # an unexpected exception fails the step, the others still run
            self.failed += 1
            print(f"FAIL: {name} raised:\n{traceback.format_exc()}", flush=True)


def make_document(i, rng):
    """A deterministic document exercising most BSON types; _id = i keeps the order known."""
    base = datetime.datetime(2020, 1, 1) + datetime.timedelta(milliseconds=rng.randrange(10**11))
    doc = SON()
    doc["_id"] = i
    doc["email"] = f"user{i}@example.com"
    doc["name"] = rng.choice(WORDS) + f" #{i}"
    doc["n"] = rng.randrange(-(2**31), 2**31)
    doc["big"] = Int64(rng.randrange(-(2**63), 2**63))
    doc["f"] = rng.uniform(-1e9, 1e9)
    doc["dec"] = Decimal128(f"{rng.randrange(10**12)}.{rng.randrange(10**4):04d}")
    doc["when"] = base.replace(microsecond=(base.microsecond // 1000) * 1000)  # BSON keeps ms
    doc["oid"] = ObjectId(f"{i:024x}")
    doc["flag"] = i % 3 == 0
    doc["none"] = None
    doc["bin"] = Binary(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))), 0)
    doc["uuid"] = Binary(uuid.UUID(int=rng.getrandbits(128)).bytes, 4)
    doc["a"] = SON([("b", i % 17), ("c", SON([("deep", [1, "two", SON([("three", 3.5)])])]))])
    doc["tags"] = [rng.choice(WORDS) for _ in range(rng.randrange(0, 6))]
    doc["matrix"] = [[j, j * 2] for j in range(i % 4)]
    doc["ts"] = Timestamp(1_600_000_000 + i, i % 7 + 1)
    doc["re"] = Regex(f"^u{i % 10}", "i")
    if i % 50 == 0:
        doc["edges"] = [MinKey(), MaxKey()]
    return doc


def raw_coll(db, name):
    return db.get_collection(name, codec_options=CodecOptions(document_class=RawBSONDocument))


def diff(expected, actual, path="doc"):
    """First difference between two decoded values, types included (1 != 1.0 != Int64(1))."""
    if type(expected) is not type(actual):
        return f"{path}: type {type(expected).__name__} != {type(actual).__name__} ({expected!r} vs {actual!r})"
    if isinstance(expected, dict):
        if list(expected.keys()) != list(actual.keys()):
            return f"{path}: keys {list(expected.keys())} != {list(actual.keys())}"
        for k in expected:
            d = diff(expected[k], actual[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{path}: length {len(expected)} != {len(actual)}"
        for k, (e, a) in enumerate(zip(expected, actual)):
            d = diff(e, a, f"{path}[{k}]")
            if d:
                return d
        return None
    return None if expected == actual else f"{path}: {expected!r} != {actual!r}"


def check_round_trip(c, db):
    rng = random.Random(SEED)
    docs = [make_document(i, rng) for i in range(DOC_COUNT)]
    shuffled = docs[:]
    rng.shuffle(shuffled)
    coll = db["things"]
    result = coll.insert_many(shuffled, ordered=False)
    c.check(len(result.inserted_ids) == DOC_COUNT, f"insert_many inserted {len(result.inserted_ids)} ids")
    c.check(coll.count_documents({}) == DOC_COUNT, "count_documents({}) after insert")
    c.check(coll.estimated_document_count() == DOC_COUNT, "estimated_document_count after insert")

    expected_raw = [bson.encode(d) for d in docs]
    # Byte-exact: the server keeps documents as sent, and the driver reads them back unchanged.
    got_raw = [r.raw for r in raw_coll(db, "things").find({}, sort=[("_id", 1)], batch_size=257)]
    c.check(len(got_raw) == DOC_COUNT, f"raw read-back returned {len(got_raw)} documents")
    mismatched = [i for i, (e, g) in enumerate(zip(expected_raw, got_raw)) if e != g]
    c.check(not mismatched, f"{len(mismatched)} documents differ byte-wise, first _id {mismatched[:1]}")

    # Decoded, through the ordinary dict path, with types compared.
    got = list(coll.find().sort("_id", pymongo.ASCENDING))
    c.check(len(got) == DOC_COUNT, f"decoded read-back returned {len(got)} documents")
    for e, g in zip(expected_raw, got):
        d = diff(bson.decode(e), g)
        if not c.check(d is None, f"decoded document differs: {d}"):
            break

    # Queries the driver builds: filter + projection + skip/limit, and an aggregation.
    some = list(coll.find({"flag": True, "a.b": {"$lt": 5}}, {"_id": 1, "a.b": 1}).sort("_id", -1).skip(3).limit(10))
    want = [d for d in reversed(docs) if d["flag"] and d["a"]["b"] < 5][3:13]
    c.check([s["_id"] for s in some] == [w["_id"] for w in want], "find with filter/sort/skip/limit ids")
    c.check(all(list(s.keys()) == ["_id", "a"] and list(s["a"].keys()) == ["b"] for s in some),
            "projection keeps only _id and a.b")
    groups = {g["_id"]: g["count"] for g in coll.aggregate([{"$group": {"_id": "$flag", "count": {"$sum": 1}}}])}
    c.check(groups == {True: sum(d["flag"] for d in docs), False: sum(not d["flag"] for d in docs)},
            f"aggregate $group counts {groups}")


def check_indexes(c, db):
    coll = db["things"]
    unique = coll.create_index([("email", pymongo.ASCENDING)], unique=True, name="email_1")
    compound = coll.create_index([("a.b", pymongo.ASCENDING), ("n", pymongo.DESCENDING)], name="ab_n")
    c.check((unique, compound) == ("email_1", "ab_n"), f"create_index names {unique}, {compound}")
    specs = {ix["name"]: ix for ix in coll.list_indexes()}
    c.check(sorted(specs) == ["_id_", "ab_n", "email_1"], f"listIndexes names {sorted(specs)}")
    expected = {
        "_id_": (SON([("_id", 1)]), False),
        "email_1": (SON([("email", 1)]), True),
        "ab_n": (SON([("a.b", 1), ("n", -1)]), False),
    }
    for name, (key, is_unique) in expected.items():
        spec = specs.get(name, {})
        c.check(list(spec.get("key", {}).items()) == list(key.items()), f"{name}: key {spec.get('key')} != {key}")
        c.check(bool(spec.get("unique", False)) == is_unique, f"{name}: unique {spec.get('unique')}")
    info = coll.index_information()
    c.check(info.get("ab_n", {}).get("key") == [("a.b", 1), ("n", -1)], f"index_information ab_n {info.get('ab_n')}")

    # A unique index over data that violates it cannot be built.
    db["dupes"].insert_many([{"_id": 1, "k": "same"}, {"_id": 2, "k": "same"}])
    try:
        db["dupes"].create_index("k", unique=True)
        c.check(False, "unique index over duplicate values was created")
    except OperationFailure as e:
        c.check(e.code == DUPLICATE_KEY, f"unique index build failed with code {e.code}, want 11000")


def check_catalog(c, db):
    db.create_collection("capped", capped=True, size=65536, max=100)
    db.create_collection("validated", validator={"n": {"$type": "int"}})
    names = sorted(db.list_collection_names())
    c.check(names == ["capped", "dupes", "things", "validated"], f"list_collection_names {names}")
    infos = {ci["name"]: ci for ci in db.list_collections()}
    for name, ci in infos.items():
        c.check(ci.get("type") == "collection", f"{name}: type {ci.get('type')}")
        uid = ci.get("info", {}).get("uuid")
        c.check(isinstance(uid, (uuid.UUID, Binary)) and len(getattr(uid, "bytes", uid)) == 16,
                f"{name}: info.uuid {uid!r}")
    opts = infos.get("capped", {}).get("options", {})
    c.check(opts.get("capped") is True and opts.get("size") == 65536 and opts.get("max") == 100,
            f"capped options {opts}")
    c.check(db["capped"].options().get("capped") is True, "Collection.options() of the capped collection")
    validator = infos.get("validated", {}).get("options", {}).get("validator")
    c.check(validator == {"n": {"$type": "int"}}, f"validator kept verbatim: {validator}")
    only = list(db.list_collections(filter={"name": "things"}))
    c.check([ci["name"] for ci in only] == ["things"], "list_collections with a name filter")
    c.check(DB in db.client.list_database_names(), "list_database_names contains the test database")


def check_duplicates(c, db):
    coll = db["things"]
    try:
        coll.insert_one({"_id": 0})
        c.check(False, "insert_one of an existing _id succeeded")
    except DuplicateKeyError as e:
        c.check(e.code == DUPLICATE_KEY, f"DuplicateKeyError code {e.code}")
    try:
        coll.insert_one({"_id": "fresh", "email": "user1@example.com"})
        c.check(False, "insert_one violating the unique email index succeeded")
    except DuplicateKeyError as e:
        c.check(e.code == DUPLICATE_KEY, f"unique index DuplicateKeyError code {e.code}")
    # Fresh documents carry their own email: a second missing email would be a duplicate null.
    batch = [{"_id": "new1", "email": "n1"}, {"_id": 5}, {"_id": "new2", "email": "n2"}, {"_id": 6}]
    for ordered, inserted in ((True, 1), (False, 2)):
        coll.delete_many({"_id": {"$in": ["new1", "new2"]}})
        try:
            coll.insert_many(batch, ordered=ordered)
            c.check(False, f"insert_many(ordered={ordered}) with duplicates succeeded")
        except BulkWriteError as e:
            errors = e.details.get("writeErrors", [])
            want = [1] if ordered else [1, 3]
            c.check([w["index"] for w in errors] == want, f"ordered={ordered}: writeErrors at {errors}")
            c.check(all(w["code"] == DUPLICATE_KEY for w in errors), f"ordered={ordered}: codes {errors}")
            c.check(e.details.get("nInserted") == inserted, f"ordered={ordered}: nInserted {e.details}")


def check_bad_password(c, uri):
    """With credentials in the URI: the same user with a wrong password is refused."""
    parsed = uri_parser.parse_uri(uri)
    if not parsed.get("username"):
        return
    bad = pymongo.MongoClient(uri.replace(":" + parsed["password"] + "@", ":wrong-password@", 1),
                              serverSelectionTimeoutMS=10000)
    try:
        bad.admin.command("ping")
        c.check(False, "a wrong password was accepted")
    except OperationFailure as e:
        c.check(e.code == AUTHENTICATION_FAILED, f"wrong password failed with code {e.code}, want 18")
    finally:
        bad.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uri", help="mongodb:// URI of a running minimongod")
    args = parser.parse_args()

    client = pymongo.MongoClient(args.uri, serverSelectionTimeoutMS=10000)
    c = Checks()
    hello = client.admin.command("hello")
    c.check(hello.get("isWritablePrimary") is True, f"hello isWritablePrimary: {hello}")
    print(f"pymongo {pymongo.version} -> maxWireVersion {hello.get('maxWireVersion')}", flush=True)
    client.drop_database(DB)
    db = client[DB]
    c.run("round trip", check_round_trip, db)
    c.run("indexes", check_indexes, db)
    c.run("catalog", check_catalog, db)
    c.run("duplicate keys", check_duplicates, db)
    c.run("bad password", check_bad_password, args.uri)
    client.drop_database(DB)
    c.check(DB not in client.list_database_names(), "drop_database removed the test database")
    client.close()
    print(f"{c.passed} passed, {c.failed} failed", flush=True)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
