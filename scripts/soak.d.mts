// Types for scripts/soak.mjs, so the TypeScript tests can drive the same soak.
import type { ChildProcess } from 'node:child_process';

export interface SoakReport {
  durationMs: number;
  connections: number;
  requests: number;
  requestsPerSecond: number;
  byOp: Record<string, number>;
  byStatus: Record<string, number>;
  serverErrors: number;
  connectionErrors: number;
  unexpected: number;
  examples: unknown[];
  acknowledgedCreates: number;
  acknowledgedDeletes: number;
  rssStartMiB?: number;
  rssEndMiB?: number;
  rssSamplesMiB: number[];
  serverExitCode: number | null;
  database: {
    tokensStored: number;
    missingCreates: number;
    presentDeletes: number;
    countersAgree: boolean;
    integrity: string;
    consistent: boolean;
  };
  ok: boolean;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  logs: string[];
  stderr(): string;
}

export function rssOf(pid: number): number | undefined;
export function createInstance(database: string, name?: string): { instanceId: string; token: string };
export function startServerProcess(database: string, env?: Record<string, string>): Promise<ServerProcess>;
export function stopServerProcess(child: ChildProcess): Promise<number | null>;
export function soak(options?: { durationMs?: number; connections?: number; warmupMs?: number }): Promise<SoakReport>;
