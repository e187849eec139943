/**
 * The broker's codec pieces against independent references: field tables and content
 * properties against amqplib's generated codec, topic matching against a regex model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FieldTable } from '../src/broker/field-table.js';
import { expirationOf, headersOf, rewriteProps } from '../src/broker/properties.js';
import { Reader } from '../src/broker/reader.js';
import { encodeTable } from '../src/broker/table-encoder.js';
import { topicMatches } from '../src/broker/topic.js';
import { defs } from './broker-support.js';

const BASIC_PROPERTIES = 60; // class id of basic content properties in amqplib's defs

/** Encodes basic properties with amqplib; returns the flags + property list we store. */
function amqplibProps(fields: Record<string, unknown>): Buffer {
  const frame = defs.encodeProperties(BASIC_PROPERTIES, 1, 0, fields);
  // frame: type(1) channel(2) size(4) class(2) weight(2) bodySize(8) props… end(1)
  return frame.subarray(19, frame.length - 1);
}

// '!' is amqplib's type trapdoor; timestamp/decimal are our typed-value shapes.
const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['!', 'timestamp', 'decimal'].includes(k));
const leaf = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.boolean(),
  fc.constant(null),
  // amqplib encodes non-integers beyond 2^50 as integers (and throws), so stay below.
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -(2 ** 40), max: 2 ** 40 }).filter((d) => !Number.isInteger(d)),
);
const table: fc.Arbitrary<FieldTable> = fc.letrec<{ table: FieldTable; value: unknown }>((tie) => ({
  table: fc.dictionary(key, tie('value'), { maxKeys: 5 }) as fc.Arbitrary<FieldTable>,
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('table'), fc.array(leaf, { maxLength: 4 })),
})).table;

describe('broker codec', () => {
  it('round-trips field tables through encodeTable and Reader.table', () => {
    fc.assert(
      fc.property(table, (t) => {
        const b = encodeTable(t);
        expect(new Reader(b, 0, b.length).table()).toEqual(t);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const b = encodeTable(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as FieldTable);
    const t = new Reader(b, 0, b.length).table();
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(Object.keys(t)).toEqual(['__proto__', 'a']);
    expect((t as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('decodes tables encoded by amqplib', () => {
    fc.assert(
      fc.property(table, (t) => {
        const props = amqplibProps({ headers: t });
        expect(headersOf(props)).toEqual(t);
      }),
      { numRuns: 200 },
    );
  });

  it('rewrites headers and drops expiration while keeping every other property', () => {
    const props = amqplibProps({
      contentType: 'application/json',
      headers: { a: 1 },
      deliveryMode: 2,
      priority: 3,
      correlationId: 'c-1',
      replyTo: 'r',
      expiration: '250',
      messageId: 'm-1',
      timestamp: 1700000000,
      type: 't',
      appId: 'pb',
    });
    expect(expirationOf(props)).toBe(250);
    const out = rewriteProps(props, { a: 1, b: 'two' }, true);
    const decoded = defs.decode(BASIC_PROPERTIES, out);
    expect(decoded).toMatchObject({
      contentType: 'application/json',
      headers: { a: 1, b: 'two' },
      deliveryMode: 2,
      priority: 3,
      correlationId: 'c-1',
      replyTo: 'r',
      messageId: 'm-1',
      timestamp: 1700000000,
      type: 't',
      appId: 'pb',
    });
    expect(decoded['expiration']).toBeUndefined();
    expect(rewriteProps(Buffer.from([0, 0]), { x: 'y' }, true)).toEqual(amqplibProps({ headers: { x: 'y' } }));
  });

  it('refuses an invalid expiration with 406 as RabbitMQ does', () => {
    expect(() => expirationOf(amqplibProps({ expiration: 'soon' }))).toThrow("invalid expiration 'soon': no_integer");
    expect(() => expirationOf(amqplibProps({ expiration: '-1' }))).toThrow("invalid expiration '-1': {value_negative,-1}");
    expect(expirationOf(amqplibProps({ contentType: 'x' }))).toBeUndefined();
  });

  it('matches topics like a reference model of * (one word) and # (zero or more words)', () => {
    const word = fc.constantFrom('a', 'b', 'order', '');
    const patternWord = fc.constantFrom('a', 'b', 'order', '', '*', '#');
    // Reference: direct recursion over words (the broker uses dynamic programming).
    const ref = (p: string[], k: string[]): boolean => {
      if (p.length === 0) return k.length === 0;
      const [head, ...rest] = p;
      if (head === '#') return Array.from({ length: k.length + 1 }, (_, i) => i).some((i) => ref(rest, k.slice(i)));
      return k.length > 0 && (head === '*' || head === k[0]) && ref(rest, k.slice(1));
    };
    const model = (pattern: string, routingKey: string): boolean => ref(pattern.split('.'), routingKey.split('.'));
    fc.assert(
      fc.property(fc.array(patternWord, { minLength: 1, maxLength: 5 }), fc.array(word, { minLength: 1, maxLength: 5 }), (p, k) => {
        const pattern = p.join('.');
        const routingKey = k.join('.');
        expect(topicMatches(pattern, routingKey)).toBe(model(pattern, routingKey));
      }),
      { numRuns: 2000 },
    );
    expect(topicMatches('order.*', 'order.placed')).toBe(true);
    expect(topicMatches('order.*', 'order.placed.eu')).toBe(false);
    expect(topicMatches('order.#', 'order')).toBe(true);
    expect(topicMatches('#.eu', 'order.placed.eu')).toBe(true);
    expect(topicMatches('*.*', 'order')).toBe(false);
  });
});
