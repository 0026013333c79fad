// Interop of minimongod with the official MongoDB Node.js driver (`mongodb`, pinned in
// package.json): writes and reads varied documents, indexes, catalog listings and duplicate-key
// errors through the driver.
//
// Usage: node node_interop.mjs MONGODB_URI
// Prints one line per failed check and a final "N passed, M failed"; exits 1 on any failure.
import { isDeepStrictEqual } from 'node:util';

import {
  Binary,
  BSON,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';

const DB = 'interop_node';
const DOC_COUNT = 3000;
const SEED = 20240611;
const DUPLICATE_KEY = 11000;
const AUTHENTICATION_FAILED = 18;
const WORDS = ['alpha', 'béta', 'γάμμα', 'дельта', 'エプシロン', 'zeta', '😀 emoji', '', 'tab\there', 'quote"s'];

// Counts checks; a failed check prints its message and the run goes on.
class Checks {
  passed = 0;
  failed = 0;

  check(ok, message) {
    if (ok) {
      this.passed += 1;
    } else {
      this.failed += 1;
      console.log(`FAIL: ${message}`);
    }
    return ok;
  }

  async run(name, fn, ...args) {
    try {
      await fn(this, ...args);
    } catch (e) {
      this.failed += 1;
      console.log(`FAIL: ${name} threw: ${e?.stack ?? e}`);
    }
  }
}

// A small deterministic generator (mulberry32): the same documents on every run.
function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    below: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

const hex24 = (i) => i.toString(16).padStart(24, '0');
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));

// A document exercising most BSON types; _id = i keeps the order known.
function makeDocument(i, rng) {
  const doc = {
    _id: i,
    email: `user${i}@example.com`,
    name: `${rng.pick(WORDS)} #${i}`,
    n: new Int32(rng.below(2 ** 32) - 2 ** 31),
    big: Long.fromBits(rng.below(2 ** 32) | 0, rng.below(2 ** 32) | 0),
    f: new Double(rng.next() * 2e9 - 1e9),
    dec: Decimal128.fromString(`${rng.below(1e12)}.${String(rng.below(1e4)).padStart(4, '0')}`),
    when: new Date(Date.UTC(2020, 0, 1) + rng.below(1e11)),
    oid: new ObjectId(hex24(i)),
    flag: i % 3 === 0,
    none: null,
    bin: new Binary(rng.bytes(rng.below(40)), 0),
    uuid: new Binary(rng.bytes(16), 4),
    a: { b: i % 17, c: { deep: [1, 'two', { three: 3.5 }] } },
    tags: Array.from({ length: rng.below(6) }, () => rng.pick(WORDS)),
    matrix: Array.from({ length: i % 4 }, (_, j) => [j, j * 2]),
    ts: new Timestamp({ t: 1_600_000_000 + i, i: (i % 7) + 1 }),
    re: new BSONRegExp(`^u${i % 10}`, 'i'),
  };
  if (i % 50 === 0) doc.edges = [new MinKey(), new MaxKey()];
  return doc;
}

function shuffled(xs, rng) {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = rng.below(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function checkRoundTrip(c, db) {
  const rng = makeRng(SEED);
  const docs = Array.from({ length: DOC_COUNT }, (_, i) => makeDocument(i, rng));
  const coll = db.collection('things');
  const result = await coll.insertMany(shuffled(docs, rng), { ordered: false });
  c.check(result.insertedCount === DOC_COUNT, `insertMany inserted ${result.insertedCount}`);
  c.check((await coll.countDocuments({})) === DOC_COUNT, 'countDocuments({}) after insert');
  c.check((await coll.estimatedDocumentCount()) === DOC_COUNT, 'estimatedDocumentCount after insert');

  // Byte-exact: the server keeps documents as sent, and the driver reads them back unchanged.
  const expectedRaw = docs.map((d) => BSON.serialize(d));
  const gotRaw = await coll.find({}, { sort: { _id: 1 }, batchSize: 257, raw: true }).toArray();
  c.check(gotRaw.length === DOC_COUNT, `raw read-back returned ${gotRaw.length} documents`);
  const mismatched = expectedRaw.findIndex((e, i) => !gotRaw[i] || !e.equals(gotRaw[i]));
  c.check(mismatched === -1, `documents differ byte-wise from _id ${mismatched}`);

  // Decoded, through the driver's ordinary path, with types and key order compared.
  const got = await coll.find().sort({ _id: 1 }).toArray();
  c.check(got.length === DOC_COUNT, `decoded read-back returned ${got.length} documents`);
  const bad = got.findIndex((g, i) => !isDeepStrictEqual(BSON.deserialize(expectedRaw[i]), g));
  c.check(bad === -1, `decoded document ${bad} differs: ${bad >= 0 ? show(got[bad]) : ''}`);

  // Queries the driver builds: filter + projection + skip/limit, and an aggregation.
  const some = await coll
    .find({ flag: true, 'a.b': { $lt: 5 } }, { projection: { _id: 1, 'a.b': 1 } })
    .sort({ _id: -1 })
    .skip(3)
    .limit(10)
    .toArray();
  const want = docs
    .filter((d) => d.flag && d.a.b < 5)
    .reverse()
    .slice(3, 13);
  c.check(isDeepStrictEqual(some.map((s) => s._id), want.map((w) => w._id)), 'find with filter/sort/skip/limit ids');
  c.check(
    some.every((s) => isDeepStrictEqual(Object.keys(s), ['_id', 'a']) && isDeepStrictEqual(Object.keys(s.a), ['b'])),
    'projection keeps only _id and a.b',
  );
  const groups = await coll.aggregate([{ $group: { _id: '$flag', count: { $sum: 1 } } }]).toArray();
  const counts = Object.fromEntries(groups.map((g) => [String(g._id), g.count]));
  const trues = docs.filter((d) => d.flag).length;
  c.check(isDeepStrictEqual(counts, { true: trues, false: DOC_COUNT - trues }), `aggregate $group counts ${show(counts)}`);
}

async function checkIndexes(c, db) {
  const coll = db.collection('things');
  const unique = await coll.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
  const compound = await coll.createIndex({ 'a.b': 1, n: -1 }, { name: 'ab_n' });
  c.check(unique === 'email_1' && compound === 'ab_n', `createIndex names ${unique}, ${compound}`);
  const specs = Object.fromEntries((await coll.listIndexes().toArray()).map((ix) => [ix.name, ix]));
  c.check(isDeepStrictEqual(Object.keys(specs).sort(), ['_id_', 'ab_n', 'email_1']), `listIndexes ${show(specs)}`);
  const expected = {
    _id_: [{ _id: 1 }, false],
    email_1: [{ email: 1 }, true],
    ab_n: [{ 'a.b': 1, n: -1 }, false],
  };
  for (const [name, [key, isUnique]] of Object.entries(expected)) {
    const spec = specs[name] ?? {};
    // Key order matters (a compound index is ordered): compare entries, not just values.
    c.check(isDeepStrictEqual(Object.entries(spec.key ?? {}), Object.entries(key)), `${name}: key ${show(spec.key)}`);
    c.check(Boolean(spec.unique) === isUnique, `${name}: unique ${spec.unique}`);
  }

  // A unique index over data that violates it cannot be built.
  await db.collection('dupes').insertMany([
    { _id: 1, k: 'same' },
    { _id: 2, k: 'same' },
  ]);
  try {
    await db.collection('dupes').createIndex({ k: 1 }, { unique: true });
    c.check(false, 'unique index over duplicate values was created');
  } catch (e) {
    c.check(e instanceof MongoServerError && e.code === DUPLICATE_KEY, `unique index build failed with ${e}`);
  }
}

async function checkCatalog(c, db, client) {
  await db.createCollection('capped', { capped: true, size: 65536, max: 100 });
  await db.createCollection('validated', { validator: { n: { $type: 'int' } } });
  const infos = await db.listCollections().toArray();
  const names = infos.map((ci) => ci.name).sort();
  c.check(isDeepStrictEqual(names, ['capped', 'dupes', 'things', 'validated']), `listCollections names ${names}`);
  for (const ci of infos) {
    c.check(ci.type === 'collection', `${ci.name}: type ${ci.type}`);
    const uuid = ci.info?.uuid;
    c.check(uuid instanceof UUID || (uuid instanceof Binary && uuid.length() === 16), `${ci.name}: info.uuid ${uuid}`);
  }
  const byName = Object.fromEntries(infos.map((ci) => [ci.name, ci]));
  const opts = byName.capped?.options ?? {};
  c.check(opts.capped === true && opts.size === 65536 && opts.max === 100, `capped options ${show(opts)}`);
  c.check((await db.collection('capped').isCapped()) === true, 'Collection.isCapped() of the capped collection');
  const validator = byName.validated?.options?.validator;
  c.check(isDeepStrictEqual(validator, { n: { $type: 'int' } }), `validator kept verbatim: ${show(validator)}`);
  const only = await db.listCollections({ name: 'things' }, { nameOnly: true }).toArray();
  c.check(isDeepStrictEqual(only.map((ci) => ci.name), ['things']), 'listCollections with a name filter');
  const dbs = await client.db('admin').admin().listDatabases();
  c.check(dbs.databases.some((d) => d.name === DB), 'listDatabases contains the test database');
}

async function expectWriteErrors(c, what, promise, wantIndexes, wantInserted) {
  try {
    await promise;
    c.check(false, `${what} with duplicates succeeded`);
  } catch (e) {
    if (!c.check(e instanceof MongoBulkWriteError, `${what}: ${e?.constructor?.name} ${e}`)) return;
    const errors = e.writeErrors;
    const list = Array.isArray(errors) ? errors : [errors];
    c.check(isDeepStrictEqual(list.map((w) => w.index), wantIndexes), `${what}: writeErrors at ${show(list)}`);
    c.check(list.every((w) => w.code === DUPLICATE_KEY), `${what}: codes ${show(list)}`);
    c.check(e.insertedCount === wantInserted, `${what}: insertedCount ${e.insertedCount}`);
  }
}

async function checkDuplicates(c, db) {
  const coll = db.collection('things');
  for (const [what, doc] of [
    ['existing _id', { _id: 0 }],
    ['unique email', { _id: 'fresh', email: 'user1@example.com' }],
  ]) {
    try {
      await coll.insertOne(doc);
      c.check(false, `insertOne of ${what} succeeded`);
    } catch (e) {
      c.check(e instanceof MongoServerError && e.code === DUPLICATE_KEY, `insertOne of ${what}: ${e}`);
    }
  }
  // Fresh documents carry their own email: a second missing email would be a duplicate null.
  const batch = () => [{ _id: 'new1', email: 'n1' }, { _id: 5 }, { _id: 'new2', email: 'n2' }, { _id: 6 }];
  for (const [ordered, indexes, inserted] of [
    [true, [1], 1],
    [false, [1, 3], 2],
  ]) {
    await coll.deleteMany({ _id: { $in: ['new1', 'new2'] } });
    await expectWriteErrors(c, `insertMany ordered=${ordered}`, coll.insertMany(batch(), { ordered }), indexes, inserted);
  }
}

// With credentials in the URI: the same user with a wrong password is refused.
async function checkBadPassword(c, uri) {
  const url = new URL(uri);
  if (!url.username) return;
  url.password = 'wrong-password';
  const bad = new MongoClient(url.toString(), { serverSelectionTimeoutMS: 10000 });
  try {
    await bad.db('admin').command({ ping: 1 });
    c.check(false, 'a wrong password was accepted');
  } catch (e) {
    c.check(e?.code === AUTHENTICATION_FAILED, `wrong password failed with ${e?.constructor?.name} code ${e?.code}`);
  } finally {
    await bad.close();
  }
}

async function main() {
  const uri = process.argv[2];
  if (!uri) {
    console.error('usage: node node_interop.mjs MONGODB_URI');
    return 2;
  }
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10000 });
  const c = new Checks();
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    c.check(hello.isWritablePrimary === true, `hello isWritablePrimary: ${show(hello)}`);
    const { version } = JSON.parse(
      await import('node:fs').then((fs) => fs.readFileSync(new URL('./node_modules/mongodb/package.json', import.meta.url))),
    );
    console.log(`mongodb (Node.js driver) ${version} -> maxWireVersion ${hello.maxWireVersion}`);
    const db = client.db(DB);
    await db.dropDatabase();
    await c.run('round trip', checkRoundTrip, db);
    await c.run('indexes', checkIndexes, db);
    await c.run('catalog', checkCatalog, db, client);
    await c.run('duplicate keys', checkDuplicates, db);
    await c.run('bad password', checkBadPassword, uri);
    await db.dropDatabase();
    const left = await client.db('admin').admin().listDatabases();
    c.check(!left.databases.some((d) => d.name === DB), 'dropDatabase removed the test database');
  } catch (e) {
    c.check(false, `unexpected error: ${e?.stack ?? e}`);
  } finally {
    await client.close();
  }
  console.log(`${c.passed} passed, ${c.failed} failed`);
  return c.failed ? 1 : 0;
}

process.exitCode = await main();
