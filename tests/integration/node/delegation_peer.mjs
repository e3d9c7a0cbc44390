// The independent side of the delegation tests (npm jose):
//   node delegation_peer.mjs setup DIR   an IdP for users and one for agents: writes
//                                        their JWKS files and tokens minted with jose
//   node delegation_peer.mjs verify JWKS TOKEN ISSUER AUDIENCE
//                                        verifies a ztgate delegation token with jose and
//                                        prints {"ok":true,"payload":...,"header":...}
//                                        or {"ok":false,"code":...,"message":...}
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';

const [cmd, ...args] = process.argv.slice(2);

async function setup(dir) {
  const now = Math.floor(Date.now() / 1000);
  const users = await jose.generateKeyPair('ES256', { extractable: true });
  const agents = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwks = async (pub, kid, alg) => ({ keys: [{ ...(await jose.exportJWK(pub)), kid, alg, use: 'sig' }] });
  writeFileSync(join(dir, 'users.jwks.json'), JSON.stringify(await jwks(users.publicKey, 'u1', 'ES256')));
  writeFileSync(join(dir, 'agents.jwks.json'), JSON.stringify(await jwks(agents.publicKey, 'a1', 'EdDSA')));
  const mdm = await jose.generateKeyPair('ES256', { extractable: true });
  writeFileSync(join(dir, 'mdm.jwks.json'), JSON.stringify(await jwks(mdm.publicKey, 'm1', 'ES256')));
  const device = (uid, iat, extra = {}) => new jose.SignJWT({ uid, managed: true, disk_encrypted: true,
                                                             edr_running: true, os_patch_age_days: 3, ...extra })
    .setProtectedHeader({ alg: 'ES256', kid: 'm1' })
    .setIssuer('https://mdm.test').setAudience('ztgate').setSubject('laptop-42')
    .setIssuedAt(iat).setExpirationTime(now + 3600).sign(mdm.privateKey);
  const user = (sub, claims) => new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'u1', typ: 'JWT' })
    .setIssuer('https://idp.test').setAudience('ztgate-api').setSubject(sub)
    .setIssuedAt(now - 60).setExpirationTime(now + 3600).sign(users.privateKey);
  const agent = (sub) => new jose.SignJWT({ client_id: sub })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'a1' })
    .setIssuer('https://agents.test').setAudience('ztgate').setSubject(sub)
    .setIssuedAt(now - 10).setExpirationTime(now + 600).sign(agents.privateKey);
  const tokens = {
    'alice.jwt': await user('alice', { groups: ['engineering'], scope: 'docs:read tickets:write mail:send',
                                       amr: ['pwd', 'otp'], auth_time: now - 120 }),
    'sam.jwt': await user('sam', { groups: ['secops'], amr: ['hwk'] }),
    'bob.jwt': await user('bob', { groups: ['finance'] }),
    'carol.jwt': await user('carol', { groups: ['engineering'] }),
    'build-bot.jwt': await agent('build-bot'),
    'summarizer.jwt': await agent('summarizer'),
    'stranger.jwt': await agent('stranger'),
    'device-alice.jwt': await device('alice', now - 30),
    'device-unmanaged.jwt': await device('alice', now - 30, { managed: false }),
    'device-bob.jwt': await device('bob', now - 30),
    'device-stale.jwt': await device('alice', now - 7200),
  };
  for (const [name, token] of Object.entries(tokens)) writeFileSync(join(dir, name), token);
}

async function verify(jwksPath, token, issuer, audience) {
  try {
    const keys = jose.createLocalJWKSet(JSON.parse(readFileSync(jwksPath, 'utf8')));
    const { payload, protectedHeader } = await jose.jwtVerify(token, keys, {
      issuer, audience, algorithms: ['EdDSA'], typ: 'ztgate-delegation+jwt', requiredClaims: ['jti', 'exp', 'act'],
    });
    console.log(JSON.stringify({ ok: true, payload, header: protectedHeader }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, code: e.code ?? 'ERR', message: e.message }));
  }
}

if (cmd === 'setup') await setup(args[0]);
else if (cmd === 'verify') await verify(...args);
else { console.error('usage: delegation_peer.mjs setup DIR | verify JWKS TOKEN ISSUER AUDIENCE'); process.exit(64); }
