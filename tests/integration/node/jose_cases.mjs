// Independent JOSE producer for tests/integration/jose_interop_itest.cpp.
//
//   node jose_cases.mjs <out-dir> <now-seconds>
//
// Uses npm `jose` (an implementation that shares no code with ztgate) to
// generate a key for every algorithm ztgate supports, publish their public
// halves as a JWKS, and mint tokens: one valid token per algorithm and a set of
// malformed and hostile ones. Tokens jose refuses to produce (duplicate
// members, `alg:none`, HMAC under a public key ...) are assembled by hand and
// signed with node:crypto using the same private keys.
//
// Writes <out-dir>/jwks.json, <out-dir>/weak_jwk.json (a 1024-bit RSA key
// that must be refused) and <out-dir>/cases.json:
//   [{ "name", "token", "valid": bool, "code"?: expected ztgate error code }]
// Expected verifier policy: issuer ISS, audience AUD, clock skew 60 s,
// exp required, default algorithm list. `now` is fixed so expiry is exact.
import { createHmac, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';

const [outDir, nowArg] = process.argv.slice(2);
if (!outDir || !nowArg || !/^\d+$/.test(nowArg)) {
  console.error('usage: node jose_cases.mjs <out-dir> <now-seconds>');
  process.exit(2);
}
const NOW = Number(nowArg);
const ISS = 'https://issuer.example';
const AUD = 'ztgate';
const SKEW = 60;

const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
const kidOf = (alg) => alg.toLowerCase();

// --- keys -------------------------------------------------------------------
const keys = {};  // alg -> { privateKey, publicKey } (CryptoKey)
for (const alg of ALGS) {
  const opts = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true };
  keys[alg] = await jose.generateKeyPair(alg, opts);
}
const jwks = { keys: [] };
for (const alg of ALGS) {
  const jwk = await jose.exportJWK(keys[alg].publicKey);
  jwks.keys.push({ ...jwk, kid: kidOf(alg), alg, use: 'sig' });
}
// Keys the verifier does not know.
const stranger = await jose.generateKeyPair('ES256', { extractable: true });
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });

// --- helpers ----------------------------------------------------------------
const b64u = (data) => Buffer.from(data).toString('base64url');
const claims = (extra = {}) => ({ iss: ISS, aud: AUD, sub: 'agent-7', iat: NOW - 10, exp: NOW + 600, ...extra });

async function mint(alg, payload = claims(), header = {}, key = keys[alg].privateKey) {
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg, kid: kidOf(alg), typ: 'JWT', ...header })
    .sign(key);
}

// node:crypto signature over the exact bytes given, in JWS form.
function rawSign(alg, input, key) {
  const keyObject = key instanceof KeyObject ? key : KeyObject.from(key);
  const data = Buffer.from(input);
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, data, keyObject);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return sign(hash, data, { key: keyObject, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS'))
    return sign(hash, data, { key: keyObject, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(alg.slice(2)) / 8 });
  return sign(hash, data, keyObject);
}

// A compact JWS over literal header and payload text (for what jose won't emit).
function handmade(signAlg, headerText, payloadText, key = keys[signAlg].privateKey) {
  const input = `${b64u(headerText)}.${b64u(payloadText)}`;
  return `${input}.${b64u(rawSign(signAlg, input, key))}`;
}

const cases = [];
const ok = (name, token) => cases.push({ name, token, valid: true });
const bad = (name, token, code) => cases.push({ name, token, valid: false, code });

// --- valid: one per algorithm, plus shape variants ----------------------------
for (const alg of ALGS) ok(`valid_${alg}`, await mint(alg));
ok('valid_audience_array', await mint('ES256', claims({ aud: ['other', AUD] })));
ok('valid_no_kid_picks_key_by_alg', await new jose.SignJWT(claims())
  .setProtectedHeader({ alg: 'ES384' }).sign(keys.ES384.privateKey));
ok('valid_expired_within_skew', await mint('EdDSA', claims({ exp: NOW - SKEW + 1 })));
ok('valid_nbf_within_skew', await mint('EdDSA', claims({ nbf: NOW + SKEW })));
ok('valid_fractional_exp', await mint('EdDSA', claims({ exp: NOW + 0.5 + 100 })));
ok('valid_unicode_claims', await mint('PS256', claims({ sub: 'agent-\u00e9\u{1F600}', name: 'Zo\u00eb' })));

// --- unsigned and algorithm confusion -----------------------------------------
const payloadText = JSON.stringify(claims());
bad('alg_none', `${b64u('{"alg":"none","typ":"JWT"}')}.${b64u(payloadText)}.`, 'jws_alg_none');
bad('alg_none_mixed_case', `${b64u('{"alg":"nOnE"}')}.${b64u(payloadText)}.`, 'jws_alg_none');
bad('alg_none_with_signature', `${(await mint('ES256')).split('.').slice(0, 2).join('.').replace(/^[^.]+/, b64u('{"alg":"none","kid":"es256"}'))}.${b64u('x'.repeat(64))}`, 'jws_alg_none');
{
  const rsaPublic = KeyObject.from(keys.RS256.publicKey);
  const pem = rsaPublic.export({ type: 'spki', format: 'pem' });
  const jwkText = JSON.stringify(jwks.keys[0]);
  for (const [name, secret] of [['pem', pem], ['jwk', jwkText], ['der', rsaPublic.export({ type: 'spki', format: 'der' })]]) {
    const input = `${b64u('{"alg":"HS256","kid":"rs256","typ":"JWT"}')}.${b64u(payloadText)}`;
    const mac = createHmac('sha256', secret).update(input).digest();
    bad(`hs256_signed_with_rsa_public_${name}`, `${input}.${b64u(mac)}`, 'jws_alg_not_allowed');
  }
}
bad('hs512_jose_made', await new jose.SignJWT(claims()).setProtectedHeader({ alg: 'HS512' })
  .sign(new Uint8Array(64).fill(7)), 'jws_alg_not_allowed');
bad('es256_header_on_rsa_key', handmade('ES256', '{"alg":"ES256","kid":"rs256"}', payloadText, keys.ES256.privateKey), 'jws_alg_key_mismatch');
bad('ps256_header_on_rs256_only_key', handmade('PS256', '{"alg":"PS256","kid":"rs256"}', payloadText, keys.RS256.privateKey), 'jws_alg_key_mismatch');
bad('rs256_header_on_ps256_only_key', handmade('RS256', '{"alg":"RS256","kid":"ps256"}', payloadText, keys.PS256.privateKey), 'jws_alg_key_mismatch');
bad('fully_specified_ed25519_alg', handmade('Ed25519', '{"alg":"Ed25519","kid":"eddsa"}', payloadText, keys.EdDSA.privateKey), 'jws_alg_not_allowed');
bad('es512_not_supported', handmade('ES256', '{"alg":"ES512","kid":"es256"}', payloadText, keys.ES256.privateKey), 'jws_alg_not_allowed');

// --- claims -----------------------------------------------------------------
bad('expired', await mint('ES256', claims({ exp: NOW - 3600 })), 'jwt_expired');
bad('expired_exactly_at_skew', await mint('ES256', claims({ exp: NOW - SKEW })), 'jwt_expired');
bad('missing_exp', await mint('ES256', { iss: ISS, aud: AUD, sub: 'agent-7' }), 'jwt_expired');
bad('not_yet_valid', await mint('ES384', claims({ nbf: NOW + 3600 })), 'jwt_not_yet_valid');
bad('issued_in_future', await mint('ES384', claims({ iat: NOW + 3600 })), 'jwt_issued_in_future');
bad('wrong_audience', await mint('RS256', claims({ aud: 'billing' })), 'jwt_audience_mismatch');
bad('missing_audience', await mint('RS256', { iss: ISS, sub: 'agent-7', exp: NOW + 600 }), 'jwt_audience_mismatch');
bad('wrong_issuer', await mint('PS384', claims({ iss: 'https://evil.example' })), 'jwt_issuer_not_allowed');
bad('issuer_prefix_lookalike', await mint('PS384', claims({ iss: `${ISS}.evil.example` })), 'jwt_issuer_not_allowed');
bad('exp_as_string', await mint('EdDSA', claims({ exp: String(NOW + 600) })), 'jwt_malformed');
bad('sub_as_number', await mint('EdDSA', claims({ sub: 42 })), 'jwt_malformed');
bad('payload_not_json', handmade('EdDSA', '{"alg":"EdDSA","kid":"eddsa"}', 'just text'), 'jwt_malformed');
bad('payload_json_array', handmade('EdDSA', '{"alg":"EdDSA","kid":"eddsa"}', `[${payloadText}]`), 'jwt_malformed');
bad('payload_trailing_garbage', handmade('EdDSA', '{"alg":"EdDSA","kid":"eddsa"}', `${payloadText}x`), 'jwt_malformed');

// --- duplicate members (RFC 7515 §4, RFC 7519 §4) ------------------------------
const dupPayload = `{"iss":"${ISS}","aud":"${AUD}","sub":"agent-7","exp":${NOW + 600},"sub":"admin"}`;
bad('duplicate_claims_sub', handmade('ES256', '{"alg":"ES256","kid":"es256"}', dupPayload), 'jwt_malformed');
bad('duplicate_claims_escaped_name', handmade('ES256', '{"alg":"ES256","kid":"es256"}',
  `{"iss":"${ISS}","aud":"${AUD}","exp":${NOW + 600},"sub":"a","\\u0073ub":"admin"}`), 'jwt_malformed');
bad('duplicate_header_alg', handmade('ES256', '{"alg":"ES256","kid":"es256","alg":"none"}', payloadText), 'jws_malformed');
bad('duplicate_header_kid', handmade('ES256', '{"alg":"ES256","kid":"rs256","kid":"es256"}', payloadText), 'jws_malformed');

// --- key selection ------------------------------------------------------------
bad('unknown_kid', await mint('ES256', claims(), { kid: 'retired-2019' }), 'jws_unknown_kid');
bad('other_key_same_kid', await mint('ES256', claims(), {}, stranger.privateKey), 'jws_bad_signature');
{
  // An embedded "jwk" header names the attacker's own key: it must be ignored.
  const attackerJwk = await jose.exportJWK(stranger.publicKey);
  bad('embedded_jwk_header_known_kid', await mint('ES256', claims(), { jwk: attackerJwk }, stranger.privateKey), 'jws_bad_signature');
  bad('embedded_jwk_header_no_kid', await new jose.SignJWT(claims())
    .setProtectedHeader({ alg: 'ES256', jwk: attackerJwk }).sign(stranger.privateKey), 'jws_bad_signature');
  bad('jku_header_attacker_url', await mint('ES256', claims(), { kid: 'attacker', jku: 'https://evil.example/jwks' }, stranger.privateKey), 'jws_unknown_kid');
}
bad('rsa1024_key_under_known_kid', handmade('RS256', '{"alg":"RS256","kid":"rs256"}', payloadText, weak.privateKey), 'jws_bad_signature');
bad('rsa1024_key_own_kid', handmade('RS256', '{"alg":"RS256","kid":"weak-1024"}', payloadText, weak.privateKey), 'jws_unknown_kid');

// --- signature bytes ----------------------------------------------------------
{
  const good = await mint('ES256');
  const [h, p, s] = good.split('.');
  const sig = Buffer.from(s, 'base64url');
  bad('truncated_signature_es256', `${h}.${p}.${b64u(sig.subarray(0, sig.length - 3))}`, 'jws_bad_signature');
  bad('signature_removed', `${h}.${p}.`, 'jws_bad_signature');
  const flipped = Buffer.from(sig);
  flipped[10] ^= 1;
  bad('flipped_signature_bit', `${h}.${p}.${b64u(flipped)}`, 'jws_bad_signature');
  bad('der_encoded_es256_signature', `${h}.${p}.${b64u(sign('sha256', Buffer.from(`${h}.${p}`), KeyObject.from(keys.ES256.privateKey)))}`, 'jws_bad_signature');
  bad('signature_not_base64url', `${h}.${p}.${s.slice(0, -4)}+/==`, 'jws_malformed');
  const otherPayload = b64u(JSON.stringify(claims({ sub: 'admin' })));
  bad('payload_swapped_after_signing', `${h}.${otherPayload}.${s}`, 'jws_bad_signature');
}
{
  const good = await mint('RS256');
  const [h, p, s] = good.split('.');
  const sig = Buffer.from(s, 'base64url');
  bad('truncated_signature_rs256', `${h}.${p}.${b64u(sig.subarray(0, sig.length - 1))}`, 'jws_bad_signature');
  // Cut mid-character: the last base64url character then has stray bits.
  bad('truncated_signature_text', `${h}.${p}.${s.slice(0, s.length - 4)}B`, 'jws_malformed');
}

// --- structure ----------------------------------------------------------------
{
  const good = await mint('EdDSA');
  const [h, p, s] = good.split('.');
  bad('two_segments', `${h}.${p}`, 'jws_malformed');
  bad('four_segments', `${h}.${p}.${s}.`, 'jws_malformed');
  bad('padded_base64', `${h}.${p}.${s}==`, 'jws_malformed');
  bad('empty_token', '', 'jws_malformed');
  bad('oversized_header', await mint('EdDSA', claims(), { pad: 'x'.repeat(20000) }), 'jws_malformed');
  bad('header_not_json', handmade('EdDSA', 'alg=EdDSA', payloadText), 'jws_malformed');
  bad('header_alg_not_string', handmade('EdDSA', '{"alg":["EdDSA"],"kid":"eddsa"}', payloadText), 'jws_malformed');
  bad('json_serialization_not_compact', JSON.stringify({ protected: h, payload: p, signature: s }), 'jws_malformed');
}
bad('unknown_crit', handmade('ES256', '{"alg":"ES256","kid":"es256","crit":["exp"],"exp":1}', payloadText), 'jws_crit_unsupported');
bad('crit_b64_false', handmade('ES256', '{"alg":"ES256","kid":"es256","b64":false,"crit":["b64"]}', payloadText), 'jws_crit_unsupported');
bad('crit_empty_array', handmade('ES256', '{"alg":"ES256","kid":"es256","crit":[]}', payloadText), 'jws_crit_unsupported');

// --- write ----------------------------------------------------------------------
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'jwks.json'), JSON.stringify(jwks, null, 1));
const weakJwk = weak.publicKey.export({ format: 'jwk' });
writeFileSync(join(outDir, 'weak_jwk.json'), JSON.stringify({ ...weakJwk, kid: 'weak-1024', alg: 'RS256' }));
writeFileSync(join(outDir, 'cases.json'), JSON.stringify(cases, null, 1));
console.log(`wrote ${cases.length} cases (${cases.filter((c) => c.valid).length} valid) to ${outDir}`);
