// Kysely table types: the columns as the databases hold them. Dates are epoch ms in
// BIGINT columns; `expiration_sort` holds NEVER_EXPIRES for a token without expiry, so
// one index orders dated tokens first ascending and last descending (SPEC 2.2).
import type { ColumnType } from 'kysely';

export const NEVER_EXPIRES = Number.MAX_SAFE_INTEGER;

export interface TokensTable {
  id: string;
  instance_id: string;
  name: string;
  name_lower: string;
  description: string | null;
  scope: string;
  status: string;
  created_at: number;
  updated_at: number;
  expiration_sort: number;
  last_used: number | null;
  creator_id: string | null;
  creator_type: string;
  creator_name: string | null;
  token_hash: string;
}

export interface InstancesTable {
  id: string;
  name: string;
  created_at: number;
}

export interface InstanceCountsTable {
  instance_id: string;
  status: string;
  n: ColumnType<number, number, number>;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
}

export interface Database {
  tokens: TokensTable;
  instances: InstancesTable;
  instance_counts: InstanceCountsTable;
  signing_keys: SigningKeysTable;
}
