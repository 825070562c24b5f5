import { deserialize, Long, serialize, type Document } from 'bson';

/**
 * The MongoDB wire protocol as far as a driver of MongoDB ≥ 4.2 speaks it to a standalone server
 * (mongodb/specifications: message/OP_MSG.md, and the legacy OP_QUERY/OP_REPLY pair that the Node driver still
 * uses for the very first `isMaster` of a connection, before it knows the server's wire version).
 *
 * Every message starts with a 16-byte header of little-endian int32s: messageLength (header included),
 * requestID, responseTo, opCode.
 */
export const OpCode = { Reply: 1, Query: 2004, Compressed: 2012, Msg: 2013 } as const;

export const HEADER_BYTES = 16;
/** The limit the double announces in `hello` (mongod's default), and refuses above. */
export const MAX_MESSAGE_BYTES = 48_000_000;

/** OP_MSG flagBits: bit 0 checksumPresent, bit 1 moreToCome, bit 16 exhaustAllowed. Others are reserved. */
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;
const EXHAUST_ALLOWED = 1 << 16;
/** The low 16 bits are "required": a receiver must fail on one it does not know. */
const KNOWN_REQUIRED_BITS = CHECKSUM_PRESENT | MORE_TO_COME;

export interface MessageHeader {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A decoded OP_MSG: the body (section 0) with every document sequence (section 1) merged in under its identifier. */
export interface OpMsgRequest {
  kind: 'msg';
  header: MessageHeader;
  moreToCome: boolean;
  exhaustAllowed: boolean;
  body: Document;
}

/** A decoded legacy OP_QUERY (only the handshake is answered through it). */
export interface OpQueryRequest {
  kind: 'query';
  header: MessageHeader;
  fullCollectionName: string;
  query: Document;
}

export type WireRequest = OpMsgRequest | OpQueryRequest;

/** A message the double cannot take: the connection is closed, as mongod closes it on a malformed message. */
export class WireProtocolError extends Error {}

export function readHeader(buf: Buffer): MessageHeader {
  return { length: buf.readInt32LE(0), requestId: buf.readInt32LE(4), responseTo: buf.readInt32LE(8), opCode: buf.readInt32LE(12) };
}

/** Decodes one whole message (`buf` holds exactly `header.length` bytes). */
export function decodeMessage(buf: Buffer): WireRequest {
  const header = readHeader(buf);
  if (header.opCode === OpCode.Msg) return decodeOpMsg(header, buf);
  if (header.opCode === OpCode.Query) return decodeOpQuery(header, buf);
  // OP_COMPRESSED is never sent: the double announces no compressor. The opcodes removed in 6.0 (OP_INSERT, …)
  // are refused by closing the connection, as mongod does.
  throw new WireProtocolError(`unsupported opCode ${header.opCode}`);
}

function decodeOpMsg(header: MessageHeader, buf: Buffer): OpMsgRequest {
  const flags = buf.readUInt32LE(HEADER_BYTES);
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_BITS;
  if (unknownRequired) throw new WireProtocolError(`OP_MSG with unknown required flag bits 0x${unknownRequired.toString(16)}`);
  const end = flags & CHECKSUM_PRESENT ? header.length - 4 : header.length;
  let offset = HEADER_BYTES + 4;
  let body: Document | undefined;
  const sequences: [string, Document[]][] = [];
  while (offset < end) {
    const payloadType = buf.readUInt8(offset);
    offset += 1;
    if (payloadType === 0) {
      if (body) throw new WireProtocolError('OP_MSG with more than one section of payload type 0');
      const size = buf.readInt32LE(offset);
      body = deserializeAt(buf, offset, size);
      offset += size;
    } else if (payloadType === 1) {
      const size = buf.readInt32LE(offset);
      const sectionEnd = offset + size;
      const nameEnd = buf.indexOf(0, offset + 4);
      if (nameEnd < 0 || nameEnd >= sectionEnd) throw new WireProtocolError('OP_MSG document sequence without an identifier');
      const identifier = buf.toString('utf8', offset + 4, nameEnd);
      const documents: Document[] = [];
      for (let at = nameEnd + 1; at < sectionEnd; ) {
        const docSize = buf.readInt32LE(at);
        documents.push(deserializeAt(buf, at, docSize));
        at += docSize;
      }
      if (sequences.some(([name]) => name === identifier)) throw new WireProtocolError(`OP_MSG with two sequences named ${identifier}`);
      sequences.push([identifier, documents]);
      offset = sectionEnd;
    } else {
      throw new WireProtocolError(`OP_MSG section of unknown payload type ${payloadType}`);
    }
  }
  if (!body) throw new WireProtocolError('OP_MSG without a section of payload type 0');
  for (const [identifier, documents] of sequences) {
    if (identifier in body) throw new WireProtocolError(`OP_MSG names ${identifier} both in the body and as a document sequence`);
    body[identifier] = documents;
  }
  return { kind: 'msg', header, moreToCome: (flags & MORE_TO_COME) !== 0, exhaustAllowed: (flags & EXHAUST_ALLOWED) !== 0, body };
}

function decodeOpQuery(header: MessageHeader, buf: Buffer): OpQueryRequest {
  let offset = HEADER_BYTES + 4; // flags: none of them matters for a command
  const nameEnd = buf.indexOf(0, offset);
  if (nameEnd < 0) throw new WireProtocolError('OP_QUERY without a collection name');
  const fullCollectionName = buf.toString('utf8', offset, nameEnd);
  offset = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = buf.readInt32LE(offset);
  return { kind: 'query', header, fullCollectionName, query: deserializeAt(buf, offset, size) };
}

function deserializeAt(buf: Buffer, offset: number, size: number): Document {
  if (size < 5 || offset + size > buf.length) throw new WireProtocolError('a BSON document runs past its message');
  return deserialize(buf.subarray(offset, offset + size), { promoteLongs: true, promoteValues: true });
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
  return out;
}

/** An OP_MSG reply: flagBits 0 and one section of payload type 0. */
export function encodeOpMsgReply(requestId: number, responseTo: number, reply: Document): Buffer {
  const doc = Buffer.from(serialize(reply));
  const flagsAndKind = Buffer.alloc(5); // flagBits (uint32) 0, then payload type 0
  return Buffer.concat([header(HEADER_BYTES + 5 + doc.length, requestId, responseTo, OpCode.Msg), flagsAndKind, doc]);
}

/** An OP_REPLY holding one document: responseFlags 0, cursorID 0, startingFrom 0, numberReturned 1. */
export function encodeOpReply(requestId: number, responseTo: number, reply: Document): Buffer {
  const doc = Buffer.from(serialize(reply));
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(0, 0);
  fields.writeBigInt64LE(0n, 4);
  fields.writeInt32LE(0, 12);
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_BYTES + 20 + doc.length, requestId, responseTo, OpCode.Reply), fields, doc]);
}

/** Cursor ids are int64 on the wire whatever their value; drivers read them as such. */
export function cursorIdOf(id: bigint): Long {
  return Long.fromBigInt(id);
}

/**
 * Splits a byte stream into whole messages. Returns the messages complete so far and keeps the rest; a length
 * outside [header, MAX_MESSAGE_BYTES] is a protocol error (the stream cannot be resynchronised).
 */
export class MessageFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < 4) break;
      const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [head];
      const length = head.readInt32LE(0);
      if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES) throw new WireProtocolError(`message length ${length} out of bounds`);
      if (this.pendingBytes < length) break;
      messages.push(head.subarray(0, length));
      const rest = head.subarray(length);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return messages;
  }
}
