import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect } from 'node:net';
import { deserialize, serialize } from 'bson';
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { startMongoDouble, type MongoDouble } from './mongo-double.js';

/**
 * The double's fidelity, checked through the official Node driver (the one mongoose 8 bundles), which nobody here
 * wrote: what it sends, and what it makes of the double's answers, is what the store adapter will meet.
 */
describe('MongoDB wire double, driven by the official driver', () => {
  let double: MongoDouble;
  let client: MongoClient;
  let db: Db;
  let dbCounter = 0;

  beforeAll(async () => {
    double = await startMongoDouble({ ttlMonitorIntervalMs: 3_600_000 });
    client = new MongoClient(double.uri, { serverSelectionTimeoutMS: 2_000 });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await double?.stop();
  });

  afterEach(() => {
    db = client.db(`fidelity_${++dbCounter}`);
  });
  beforeAll(() => {
    db = client.db(`fidelity_${++dbCounter}`);
  });

  async function serverError(promise: Promise<unknown>): Promise<MongoServerError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'expected the server to refuse').toBeInstanceOf(MongoServerError);
    return err as MongoServerError;
  }

  it('handshakes as a writable standalone and answers ping and buildInfo', async () => {
    expect(await db.admin().ping()).toEqual({ ok: 1 });
    const info = await db.admin().buildInfo();
    expect(info.version).toMatch(/^7\.0\./);
    // The driver's first message on every connection is the legacy `ismaster` over OP_QUERY; monitoring then says hello.
    expect(double.commandCounts.get('ismaster')).toBeGreaterThan(0);
  });

  it('refuses an unimplemented command with CommandNotFound naming it', async () => {
    const err = await serverError(db.command({ collMod: 'things' }));
    expect(err.code).toBe(59);
    expect(err.codeName).toBe('CommandNotFound');
    expect(err.message).toBe("no such command: 'collMod'");
    expect(double.refused.at(-1)).toMatch(/^collMod: /);
  });

  it('refuses unimplemented options by name and transactions like a standalone', async () => {
    const things = db.collection('things');
    const err = await serverError(things.find({}, { collation: { locale: 'en', strength: 2 } }).toArray());
    expect(err.code).toBe(238);
    expect(err.message).toMatch(/find\.collation/);
    const unknown = await serverError(db.command({ find: 'things', bogus: 1 }));
    expect(unknown.message).toBe("BSON field 'find.bogus' is an unknown field.");
    const stage = await serverError(things.aggregate([{ $lookup: { from: 'x', localField: 'a', foreignField: 'b', as: 'c' } }]).toArray());
    expect(stage.message).toMatch(/\$lookup/);
  });

  it('inserts, finds with filter, sort, skip, limit and projection, across getMore batches', async () => {
    const things = db.collection<{ _id: number; n: number; tag: string; extra: string }>('things');
    await things.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i, n: i % 7, tag: i % 2 ? 'odd' : 'even', extra: 'x'.repeat(10) })));
    const page = await things.find({ tag: 'odd' }, { sort: { n: -1, _id: 1 }, skip: 3, limit: 4, projection: { extra: 0 } }).toArray();
    expect(page).toEqual([
      { _id: 55, n: 6, tag: "odd" },
      { _id: 69, n: 6, tag: "odd" },
      { _id: 83, n: 6, tag: "odd" },
      { _id: 97, n: 6, tag: "odd" },
    ]);
    // More than the first batch (101) comes through getMore.
    const all = await things.find({}, { batchSize: 50 }).toArray();
    expect(all.map((d) => d._id)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(double.commandCounts.get('getMore')).toBeGreaterThanOrEqual(4);
    expect(await things.countDocuments({ n: { $gte: 5 } })).toBe(70);
    expect(await things.countDocuments({ tag: 'even' }, { skip: 100, limit: 10 })).toBe(10);
    expect(await things.estimatedDocumentCount()).toBe(250);
  });

  it('reports a duplicate key exactly as mongod: code 11000, errmsg, keyPattern, keyValue', async () => {
    const users = db.collection('users');
    await users.createIndex({ workspaceId: 1, nameKey: 1 }, { unique: true, name: 'live_name' });
    await users.insertOne({ _id: 'a' as never, workspaceId: 1, nameKey: 'alpha' });
    const err = await serverError(users.insertOne({ _id: 'b' as never, workspaceId: 1, nameKey: 'alpha' }));
    expect(err.code).toBe(11000);
    expect(err.message).toBe(`E11000 duplicate key error collection: ${db.databaseName}.users index: live_name dup key: { workspaceId: 1, nameKey: "alpha" }`);
    expect(err.errorResponse).toMatchObject({ keyPattern: { workspaceId: 1, nameKey: 1 }, keyValue: { workspaceId: 1, nameKey: 'alpha' } });
    expect(await users.countDocuments()).toBe(1);
    // The same through findAndModify (a top-level error with codeName) and update.
    await users.insertOne({ _id: 'c' as never, workspaceId: 1, nameKey: 'gamma' });
    const viaFam = await serverError(users.findOneAndUpdate({ _id: 'c' as never }, { $set: { nameKey: 'alpha' } }));
    expect(viaFam).toMatchObject({ code: 11000, codeName: 'DuplicateKey', keyValue: { workspaceId: 1, nameKey: 'alpha' } });
    const viaUpdate = await serverError(users.updateOne({ _id: 'c' as never }, { $set: { nameKey: 'alpha' } }));
    expect(viaUpdate.code).toBe(11000);
    expect(await users.findOne({ _id: 'c' as never })).toMatchObject({ nameKey: 'gamma' });
    const dupId = await serverError(users.insertOne({ _id: 'a' as never, workspaceId: 2, nameKey: 'other' }));
    expect(dupId.message).toMatch(/index: _id_ dup key: \{ _id: "a" \}/);
  });

  it('enforces a partial unique index only on documents its filter selects, and refuses filters mongod refuses', async () => {
    const services = db.collection('services');
    await services.createIndex({ ws: 1, nameKey: 1 }, { unique: true, name: 'live', partialFilterExpression: { live: true } });
    await services.insertOne({ _id: 's1' as never, ws: 1, nameKey: 'x', live: true });
    await serverError(services.insertOne({ _id: 's2' as never, ws: 1, nameKey: 'x', live: true }));
    await services.updateOne({ _id: 's1' as never }, { $unset: { live: '' } });
    await services.insertOne({ _id: 's2' as never, ws: 1, nameKey: 'x', live: true });
    await services.insertOne({ _id: 's3' as never, ws: 1, nameKey: 'x' });
    // Bringing the first back to life collides with the live one.
    expect((await serverError(services.updateOne({ _id: 's1' as never }, { $set: { live: true } }))).code).toBe(11000);
    const refused = await serverError(services.createIndex({ a: 1 }, { unique: true, partialFilterExpression: { deletedAt: { $exists: false } } }));
    expect(refused).toMatchObject({ code: 67, message: expect.stringMatching(/Expression not supported in partial index: \$not/) });
    const indexes = await services.listIndexes().toArray();
    expect(indexes.map((i) => i.name)).toEqual(['_id_', 'live']);
    expect(indexes[1]).toMatchObject({ unique: true, partialFilterExpression: { live: true }, key: { ws: 1, nameKey: 1 } });
  });

  it('findOneAndUpdate honours returnDocument, sort and upsert; $inc counters count', async () => {
    const counters = db.collection<{ _id: string; seq: number }>('counters');
    const first = await counters.findOneAndUpdate({ _id: 'models' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    expect(first).toEqual({ _id: 'models', seq: 1 });
    const before = await counters.findOneAndUpdate({ _id: 'models' }, { $inc: { seq: 1 } }, { returnDocument: 'before' });
    expect(before).toEqual({ _id: 'models', seq: 1 });
    expect(await counters.findOne({ _id: 'models' })).toEqual({ _id: 'models', seq: 2 });
    expect(await counters.findOneAndUpdate({ _id: 'none' }, { $inc: { seq: 1 } })).toBeNull();
    const jobs = db.collection<{ _id: number; p: number; taken?: boolean }>('jobs');
    await jobs.insertMany([{ _id: 1, p: 5 }, { _id: 2, p: 9 }, { _id: 3, p: 7 }]);
    expect(await jobs.findOneAndUpdate({ taken: { $exists: false } }, { $set: { taken: true } }, { sort: { p: -1 }, returnDocument: 'after' })).toEqual({ _id: 2, p: 9, taken: true });
    expect(await jobs.findOneAndDelete({}, { sort: { p: 1 } })).toEqual({ _id: 1, p: 5 });
    const upserted = await jobs.updateOne({ _id: 4 }, { $set: { p: 1 }, $setOnInsert: { taken: false } }, { upsert: true });
    expect(upserted).toMatchObject({ upsertedId: 4, upsertedCount: 1 });
    expect(await jobs.findOne({ _id: 4 })).toEqual({ _id: 4, p: 1, taken: false });
    const conflict = await serverError(jobs.updateOne({ _id: 4 }, { $set: { p: 2 }, $inc: { p: 1 } }));
    expect(conflict.code).toBe(40);
  });

  it('optimistic concurrency: an update whose filter names an old version matches nothing', async () => {
    const docs = db.collection<{ _id: string; version: number; v: string }>('occ');
    await docs.insertOne({ _id: 'x', version: 1, v: 'a' });
    const won = await docs.findOneAndUpdate({ _id: 'x', version: 1 }, { $set: { v: 'b' }, $inc: { version: 1 } }, { returnDocument: 'after' });
    const lost = await docs.findOneAndUpdate({ _id: 'x', version: 1 }, { $set: { v: 'c' }, $inc: { version: 1 } }, { returnDocument: 'after' });
    expect(won).toEqual({ _id: 'x', version: 2, v: 'b' });
    expect(lost).toBeNull();
    const bounded = await docs.findOneAndUpdate({ _id: 'x' }, { $push: { h: { $each: [1, 2, 3], $slice: -2 } } as never }, { returnDocument: 'after', projection: { h: { $slice: -1 } } });
    expect(bounded).toMatchObject({ h: [3] });
  });

  it('expires documents through a TTL index when the monitor runs', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const timed = await startMongoDouble({ now: () => new Date(clock), ttlMonitorIntervalMs: 3_600_000 });
    const c = new MongoClient(timed.uri, { serverSelectionTimeoutMS: 2_000 });
    try {
      const keys = c.db('ttl').collection('keys');
      await keys.createIndex({ createdAt: 1 }, { expireAfterSeconds: 60 });
      await keys.insertMany([
        { _id: 'old' as never, createdAt: new Date(clock - 61_000) },
        { _id: 'new' as never, createdAt: new Date(clock - 10_000) },
        { _id: 'nodate' as never, createdAt: 'not a date' },
      ]);
      expect(timed.sweepTtl()).toBe(1);
      expect((await keys.find().toArray()).map((d) => d._id)).toEqual(['new', 'nodate']);
      clock += 60_000;
      expect(timed.sweepTtl()).toBe(1);
      expect((await keys.find().toArray()).map((d) => d._id)).toEqual(['nodate']);
    } finally {
      await c.close();
      await timed.stop();
    }
  });

  it('comes back on the same port after a restart, with or without its data; the driver reconnects', async () => {
    const restartable = await startMongoDouble();
    const c = new MongoClient(restartable.uri, { serverSelectionTimeoutMS: 1_500 });
    try {
      const col = c.db('restart').collection('docs');
      await col.insertOne({ _id: 1 as never, v: 'kept' });
      const port = restartable.port;
      await restartable.kill();
      const down = await col.findOne({ _id: 1 as never }).then(
        () => 'answered',
        (e: Error) => `${e.name} ${e.constructor.name} ${e.message}`,
      );
      // A pooled connection reset under the driver surfaces as a network error (the socket's own ECONNRESET when
      // the write itself fails), then as server selection failures until the server is back.
      expect(down).toMatch(/MongoNetworkError|MongoServerSelectionError|MongoPoolClearedError|ECONNRESET|EPIPE/);
      await restartable.restart();
      expect(restartable.port).toBe(port);
      expect(await col.findOne({ _id: 1 as never })).toEqual({ _id: 1, v: 'kept' });
      await restartable.restart({ keepData: false });
      expect(await col.findOne({ _id: 1 as never })).toBeNull();
    } finally {
      await c.close();
      await restartable.stop();
    }
  });

  it('answers a legacy OP_QUERY other than the handshake with UnsupportedOpQueryCommand, and drops a malformed stream', async () => {
    const socket = connect(double.port, '127.0.0.1');
    await once(socket, 'connect');
    const query = Buffer.from(serialize({ find: 'things' }));
    const ns = Buffer.from('fidelity.$cmd\0');
    const head = Buffer.alloc(16);
    const tail = Buffer.alloc(8);
    tail.writeInt32LE(-1, 4); // numberToSkip 0, numberToReturn -1
    head.writeInt32LE(16 + 4 + ns.length + 8 + query.length, 0);
    head.writeInt32LE(7, 4);
    head.writeInt32LE(2004, 12);
    const reply = once(socket, 'data');
    socket.write(Buffer.concat([head, Buffer.alloc(4), ns, tail, query]));
    const [answer] = (await reply) as [Buffer];
    expect(answer.readInt32LE(8)).toBe(7); // responseTo
    expect(answer.readInt32LE(12)).toBe(1); // OP_REPLY
    expect(deserialize(answer.subarray(36))).toMatchObject({ ok: 0, code: 352, errmsg: expect.stringMatching(/Unsupported OP_QUERY command: find/) });
    // A message length shorter than its own header cannot be framed: the connection is closed.
    const closed = once(socket, 'close');
    socket.write(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    await closed;
  });

  it('has not met a defect of its own', () => {
    expect(double.internalErrors).toEqual([]);
  });
});
