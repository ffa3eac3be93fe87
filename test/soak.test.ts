// The short soak that runs in CI: a few seconds of mixed list/create/get/patch/delete
// from 50 concurrent keep-alive connections against `tessera serve` on SQLite. The
// long version is `node scripts/soak.mjs --duration 60` (same code).
import { describe, expect, it } from 'vitest';
import { soak } from '../scripts/soak.mjs';

const SECONDS = Number(process.env.SOAK_TEST_SECONDS ?? 4);

describe('short soak', () => {
  it(`${SECONDS} s of mixed load from 50 connections: no 5xx, no connection errors, database consistent`, async () => {
    const report = await soak({ durationMs: SECONDS * 1000, connections: 50, warmupMs: 500 });
    console.log(
      `soak: ${report.requests} requests in ${SECONDS} s (${JSON.stringify(report.byOp)}), statuses ${JSON.stringify(report.byStatus)}, ` +
        `5xx ${report.serverErrors}, connection errors ${report.connectionErrors}, unexpected ${report.unexpected}, ` +
        `RSS start ${report.rssStartMiB} MiB end ${report.rssEndMiB} MiB, creates ${report.acknowledgedCreates} deletes ${report.acknowledgedDeletes}`,
    );
    expect(report.examples).toEqual([]);
    expect(report.serverErrors).toBe(0);
    expect(report.connectionErrors).toBe(0);
    expect(report.unexpected).toBe(0);
    // Every op ran, so each part of the consistency check had something to check.
    for (const op of ['list', 'create', 'get', 'patch', 'delete']) expect(report.byOp[op] ?? 0).toBeGreaterThan(0);
    expect(report.database).toMatchObject({ missingCreates: 0, presentDeletes: 0, countersAgree: true, integrity: 'ok', consistent: true });
    expect(report.database.tokensStored).toBeGreaterThan(0);
    // SIGTERM drained the connections and exited cleanly.
    expect(report.serverExitCode).toBe(0);
    // Memory: a loose bound only (not a timing or tuning assertion): a leak of the
    // kind that matters would be a multiple, not a few MiB.
    if (report.rssStartMiB && report.rssEndMiB) expect(report.rssEndMiB).toBeLessThan(report.rssStartMiB * 2 + 64);
  }, 90_000);
});
