"""pymongo (Debian's) tails minimongod's local.oplog.rs the way `copy --follow` and real replica-set
tools do: a tailable awaitData cursor from the newest entry, woken by later writes. The entries must
have the shapes a MongoDB 5.0+ primary logs: an insert, an operator update as a $v:2 diff, a
replacement as the whole document, a delete. Server flags: --replSet rs0 --oplogV2Updates.

  python3 pymongo_oplog_tail.py URI
"""
import sys
import threading
import time

import pymongo
from bson.timestamp import Timestamp
from pymongo import CursorType

client = pymongo.MongoClient(sys.argv[-1], directConnection=True)
oplog = client.local["oplog.rs"]
newest = list(oplog.find().sort("$natural", -1).limit(1))
start = newest[0]["ts"] if newest else Timestamp(0, 0)
cursor = oplog.find({"ts": {"$gt": start}}, cursor_type=CursorType.TAILABLE_AWAIT).max_await_time_ms(2000)


def writer():
    # After the cursor is open and waiting, so the entries must wake it.
    time.sleep(0.5)
    coll = client.tail.c
    coll.insert_one({"_id": 1, "a": 1, "b": 2})
    coll.update_one({"_id": 1}, {"$set": {"a": 5, "n": 1}, "$unset": {"b": ""}})
    coll.replace_one({"_id": 1}, {"x": 9})
    coll.delete_one({"_id": 1})


threading.Thread(target=writer).start()
seen = []
deadline = time.time() + 15
while len(seen) < 4 and time.time() < deadline and cursor.alive:
    for entry in cursor:
        seen.append(entry)
ops = [(e["op"], e["ns"]) for e in seen]
assert ops == [("i", "tail.c"), ("u", "tail.c"), ("u", "tail.c"), ("d", "tail.c")], ops
assert seen[0]["o"] == {"_id": 1, "a": 1, "b": 2}, seen[0]["o"]
# $set of an existing field is "u", of a new field "i", $unset is "d" (MongoDB's delta format).
assert seen[1]["o"] == {"$v": 2, "diff": {"u": {"a": 5}, "i": {"n": 1}, "d": {"b": False}}}, seen[1]["o"]
assert seen[1]["o2"] == {"_id": 1}, seen[1].get("o2")
assert seen[2]["o"] == {"_id": 1, "x": 9}, seen[2]["o"]
assert seen[3]["o"] == {"_id": 1}, seen[3]["o"]
print("pymongo oplog tail: 4 entries in MongoDB's shapes")
