import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { normalizeName } from './guest.js';

/** What a verified token says about its user. */
export interface TokenClaims {
  sub: string;
  name: string;
  /** Expiry, ms since epoch. */
  exp: number;
  /** Room ids or glob patterns (`team-*`) the user may join even when private. */
  rooms: string[];
  admin: boolean;
}

/** A token that was refused; `message` says why, in words a developer can act on. */
export class TokenError extends Error {
  readonly code = 'unauthorized';
}

export interface JwtOptions {
  secret?: string;
  publicKeyFile?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/** Seconds of clock skew tolerated on exp and nbf. */
const CLOCK_TOLERANCE_S = 5;

type Key = { kind: 'static'; key: Uint8Array | KeyObject } | { kind: 'remote'; getKey: JWTVerifyGetKey };

/** The algorithms a key may verify: never more than its own kind, so HS/RS confusion is impossible. */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec':
      return ['ES256', 'ES384', 'ES512'];
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      throw new Error(`the public key is of type ${key.asymmetricKeyType}; use an RSA, EC or Ed25519 key`);
  }
}

/** Verifies JWTs from the user's own backend with jose. */
export class JwtVerifier {
  private constructor(
    private readonly key: Key,
    private readonly algorithms: string[],
    private readonly opts: JwtOptions,
  ) {}

  static create(opts: JwtOptions): JwtVerifier {
    if (opts.secret) return new JwtVerifier({ kind: 'static', key: new TextEncoder().encode(opts.secret) }, ['HS256'], opts);
    if (opts.publicKeyFile) {
      let key: KeyObject;
      try {
        key = createPublicKey(readFileSync(opts.publicKeyFile, 'utf8'));
      } catch (err) {
        throw new Error(`cannot read a PEM public key from ${opts.publicKeyFile}: ${(err as Error).message}`);
      }
      return new JwtVerifier({ kind: 'static', key }, algorithmsFor(key), opts);
    }
    if (opts.jwksUrl) {
      const getKey = createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
      return new JwtVerifier({ kind: 'remote', getKey }, ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'], opts);
    }
    throw new Error('no JWT key configured');
  }

  /** Verifies signature, algorithm, exp, nbf, iss and aud; throws TokenError. */
  async verify(token: string): Promise<TokenClaims> {
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: this.algorithms,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp'],
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
      };
      const result =
        this.key.kind === 'static'
          ? await jwtVerify(token, this.key.key, options)
          : await jwtVerify(token, this.key.getKey, options);
      payload = result.payload;
    } catch (err) {
      throw new TokenError(describe(err));
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) {
      throw new TokenError('the token\'s "sub" must be a user id of 1-128 characters');
    }
    const rawName = typeof payload.name === 'string' ? normalizeName(payload.name) : null;
    const rooms = Array.isArray(payload.rooms) ? payload.rooms.filter((r): r is string => typeof r === 'string' && r.length <= 128) : [];
    return {
      sub,
      name: rawName ?? sub.slice(0, 32),
      exp: (payload.exp as number) * 1000,
      rooms,
      admin: payload.admin === true,
    };
  }
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired; get a fresh one';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet (nbf is in the future)';
    if (err.claim === 'iss') return 'the token was issued by an issuer this server does not accept';
    if (err.claim === 'aud') return 'the token is meant for another audience';
    return `the token's "${err.claim}" claim is missing or wrong`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this server does not accept';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (err instanceof errors.JWKSTimeout) return 'the issuer\'s key set could not be fetched in time; try again';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return 'the token is not a valid signed JWT';
  }
  return 'the token could not be verified';
}
