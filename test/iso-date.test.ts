// isoDate must write exactly what Date#toISOString writes, for every instant a Date
// can hold, and fail the same way on an invalid one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDate } from '../src/domain/iso-date.js';

const MAX = 8.64e15;

describe('isoDate', () => {
  it('matches toISOString on edge instants', () => {
    const edges = [
      0, -1, 1, 999, 1000, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(0, 0, 1) - 1, Date.UTC(0, 0, 1), Date.UTC(999, 11, 31, 23, 59, 59, 999), Date.UTC(1000, 0, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1), MAX, -MAX,
      Number.MAX_SAFE_INTEGER % MAX,
    ];
    for (const ms of edges) expect(isoDate(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('matches toISOString on any instant a Date can hold', () => {
    fc.assert(fc.property(fc.integer({ min: -MAX, max: MAX }), (ms) => isoDate(ms) === new Date(ms).toISOString()), { numRuns: 20_000 });
    // Dense around the present, where real tokens live.
    fc.assert(fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }), (ms) => isoDate(ms) === new Date(ms).toISOString()), { numRuns: 20_000 });
  });

  it('throws like toISOString outside the range of a Date', () => {
    for (const bad of [NaN, MAX + 1, -MAX - 1, Infinity]) expect(() => isoDate(bad)).toThrow(RangeError);
  });
});
