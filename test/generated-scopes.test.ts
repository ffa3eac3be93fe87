import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTION_GRANTS, INSTANCE_SCOPES } from '../src/domain/instance-scopes.generated.js';

const reference = JSON.parse(readFileSync(new URL('../src/domain/instance-scopes.json', import.meta.url), 'utf8'));

describe('generated scope tables', () => {
  it('are current with instance-scopes.json', () => {
    // exits non-zero (and so throws) when the generated module is stale
    execFileSync(process.execPath, ['scripts/generate-scopes.mjs', '--check'], { stdio: 'pipe' });
    expect([...INSTANCE_SCOPES]).toEqual(reference.scopes);
    expect(ACTION_GRANTS).toEqual(reference.actions);
  });

  it('repeat the granting scopes SPEC section 3.2 lists for the five served actions', () => {
    expect(ACTION_GRANTS['instanceApiTokens.get']).toEqual([
      'all.Instance', 'all.Instance.read', 'all.User', 'all.User.read', 'instanceApiTokens.*', 'instanceApiTokens.get',
    ]);
    expect(ACTION_GRANTS['instanceApiTokens.post']).toEqual(['all.Instance', 'all.User', 'instanceApiTokens.*', 'instanceApiTokens.post']);
    expect(ACTION_GRANTS['instanceApiToken.get']).toEqual([
      'all.Instance', 'all.Instance.read', 'all.User', 'all.User.read', 'instanceApiToken.*', 'instanceApiToken.get',
    ]);
    expect(ACTION_GRANTS['instanceApiToken.patch']).toEqual(['all.Instance', 'all.User', 'instanceApiToken.*', 'instanceApiToken.patch']);
    expect(ACTION_GRANTS['instanceApiToken.delete']).toEqual(['all.Instance', 'all.User', 'instanceApiToken.*', 'instanceApiToken.delete']);
  });
});
