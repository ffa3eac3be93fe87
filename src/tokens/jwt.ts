// Token strings: Ed25519-signed JWTs carrying jti (token id), sub (instance id), iat and
// exp. Verification accepts nothing but EdDSA with a known kid; the claims only locate
// the stored record, which stays authoritative.
import { createHash } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { isId } from '../domain/ids.js';
import { ALGORITHM, type KeyRing } from './keys.js';

export interface TokenClaims {
  tokenId: string;
  instanceId: string;
  kid: string;
}

export type VerifyFailure = 'malformed' | 'signature' | 'expired' | 'unknownKey';

export class TokenVerifyError extends Error {
  constructor(readonly reason: VerifyFailure) {
    super(reason);
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function issueToken(
  keys: KeyRing,
  claims: { tokenId: string; instanceId: string; issuedAt: number; expiresAt?: number },
): Promise<string> {
  const key = keys.signingKey();
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setJti(claims.tokenId)
    .setSubject(claims.instanceId)
    .setIssuedAt(Math.floor(claims.issuedAt / 1000));
  if (claims.expiresAt !== undefined) jwt.setExpirationTime(Math.ceil(claims.expiresAt / 1000));
  return jwt.sign(key.privateKey);
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 4096;

export async function verifyTokenString(keys: KeyRing, token: string): Promise<TokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new TokenVerifyError('malformed');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenVerifyError('malformed');
  }
  if (header.alg !== ALGORITHM) throw new TokenVerifyError('signature');
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 200) {
    throw new TokenVerifyError('unknownKey');
  }
  const key = await keys.verificationKey(header.kid);
  if (!key) throw new TokenVerifyError('unknownKey');
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: [ALGORITHM] });
    if (!isId(payload.jti) || !isId(payload.sub)) throw new TokenVerifyError('malformed');
    return { tokenId: payload.jti.toLowerCase(), instanceId: payload.sub.toLowerCase(), kid: header.kid };
  } catch (err) {
    if (err instanceof TokenVerifyError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new TokenVerifyError('expired');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenVerifyError('signature');
    throw new TokenVerifyError('malformed');
  }
}
