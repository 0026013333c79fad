#!/usr/bin/env bash
# Writes the fuzzers' seed corpora into OUT/<target>/ (default build/fuzz/seeds), generated from
# the shared fixtures (bson-corpus, real mongodump/mongorestore test data) plus the crash inputs
# kept in fuzz/regressions/<target>/. Nothing generated here is committed.
#   usage: fuzz/make_seeds.sh [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/build/fuzz/seeds}
fixtures=${BSONPIPE_SHARED_DIR:-$root/../shared}/fixtures
[ -d "$fixtures/bson-corpus" ] || { echo "make_seeds: no fixtures at $fixtures" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 - "$fixtures" "$out" <<'PY'
import glob, hashlib, json, os, struct, sys, zlib

fixtures, out = sys.argv[1], sys.argv[2]
counts = {}

def seed(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
    counts[target] = counts.get(target, 0) + 1

def split_docs(raw):
    docs, pos = [], 0
    while pos + 4 <= len(raw):
        n = struct.unpack_from("<i", raw, pos)[0]
        if n < 5 or pos + n > len(raw):
            break
        docs.append(raw[pos:pos + n])
        pos += n
    return docs

# bson-corpus: valid documents, decode errors, Extended JSON forms and parse errors.
corpus_docs = []
for path in sorted(glob.glob(os.path.join(fixtures, "bson-corpus", "*.json"))):
    spec = json.load(open(path))
    for case in spec.get("valid", []):
        b = bytes.fromhex(case["canonical_bson"])
        corpus_docs.append(b)
        seed("fuzz_bson_validate", b)
        for key in ("canonical_extjson", "relaxed_extjson", "degenerate_extjson"):
            if key in case:
                seed("fuzz_extjson_parse", case[key])
    for case in spec.get("decodeErrors", []):
        seed("fuzz_bson_validate", bytes.fromhex(case["bson"]))
    for case in spec.get("parseErrors", []):
        s = case["string"]
        seed("fuzz_extjson_parse", s if s.lstrip().startswith("{") else '{"a": %s}' % s)

# Real mongodump output: .bson documents, metadata.json, archives.
tools = os.path.join(fixtures, "mongo-tools-testdata")
bson_docs = []
for path in sorted(glob.glob(os.path.join(tools, "**", "*.bson"), recursive=True)):
    docs = split_docs(open(path, "rb").read())
    bson_docs.extend(docs[:20])
for b in bson_docs:
    seed("fuzz_bson_validate", b)
for path in sorted(glob.glob(os.path.join(tools, "**", "*.metadata.json"), recursive=True)):
    text = open(path, "rb").read()
    seed("fuzz_metadata_json", text)
    seed("fuzz_extjson_parse", text)
seed("fuzz_metadata_json", '{"ServerVersion":"7.0.2","ToolVersion":"100.9.0"}')
seed("fuzz_metadata_json", "")
for path in sorted(glob.glob(os.path.join(tools, "**", "*.archive"), recursive=True)):
    data = open(path, "rb").read()
    if len(data) > 256 * 1024:
        continue
    # First byte: the reader's knobs (chunk size, validation, strict fields).
    for knob in (0x00, 0x45, 0x8A):
        seed("fuzz_archive_reader", bytes([knob]) + data)
for path in sorted(glob.glob(os.path.join(tools, "**", "*.json"), recursive=True)):
    if path.endswith(".metadata.json"):
        continue
    text = open(path, "rb").read()
    if len(text) < 64 * 1024:
        seed("fuzz_extjson_parse", text)

# Wire messages built here by hand (not by our encoder): OP_MSG with a body and a document
# sequence, OP_QUERY hello, OP_REPLY, and OP_COMPRESSED (noop, zlib) around an OP_MSG.
def header(length, req, resp, op):
    return struct.pack("<iiii", length, req, resp, op)

def cstr(s):
    return s.encode() + b"\0"

def op_msg(body, seqs=(), flags=0):
    payload = struct.pack("<I", flags) + b"\0" + body
    for ident, docs in seqs:
        seq = cstr(ident) + b"".join(docs)
        payload += b"\1" + struct.pack("<i", 4 + len(seq)) + seq
    return header(16 + len(payload), 7, 0, 2013) + payload

def op_query(ns, query):
    payload = struct.pack("<i", 0) + cstr(ns) + struct.pack("<ii", 0, -1) + query
    return header(16 + len(payload), 8, 0, 2004) + payload

def op_reply(docs):
    payload = struct.pack("<iqii", 8, 0, 0, len(docs)) + b"".join(docs)
    return header(16 + len(payload), 9, 8, 1) + payload

def op_compressed(msg, cid):
    body = msg[16:]
    comp = body if cid == 0 else zlib.compress(body)
    payload = struct.pack("<iiB", struct.unpack_from("<i", msg, 12)[0], len(body), cid) + comp
    return header(16 + len(payload), 10, 0, 2012) + payload

def bdoc(elements):
    body = b"".join(elements) + b"\0"
    return struct.pack("<i", 4 + len(body)) + body

def e_str(k, v):
    b = v.encode() + b"\0"
    return b"\x02" + cstr(k) + struct.pack("<i", len(b)) + b

def e_int(k, v):
    return b"\x10" + cstr(k) + struct.pack("<i", v)

hello = bdoc([e_int("hello", 1), e_str("$db", "admin")])
insert = bdoc([e_str("insert", "c"), e_str("$db", "test")])
sample = (corpus_docs[:8] + bson_docs[:8]) or [hello]
msgs = [
    op_msg(hello),
    op_msg(insert, [("documents", sample)]),
    op_msg(insert, [("documents", sample[:2]), ("updates", sample[2:4])], flags=2),
    op_query("admin.$cmd", bdoc([e_int("isMaster", 1)])),
    op_reply([bdoc([e_int("ok", 1)])]),
    op_reply(sample[:3]),
]
for m in list(msgs):
    seed("fuzz_wire_decode", m)
    seed("fuzz_wire_decode", op_compressed(m, 0))
    seed("fuzz_wire_decode", op_compressed(m, 2))

for target in sorted(counts):
    print(f"make_seeds: {target}: {counts[target]} seeds")
PY
# Crash inputs found earlier stay seeds for ever.
for d in "$here"/regressions/*/; do
  [ -d "$d" ] || continue
  t=$(basename "$d")
  mkdir -p "$out/$t"
  cp "$d"/* "$out/$t/" 2>/dev/null || true
done
echo "make_seeds: wrote $out"
