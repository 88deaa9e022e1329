// A local OpenID Connect provider for the STP demo and the end-to-end tests, built on the npm
// package oidc-provider (pinned in package.json). It listens on 127.0.0.1 over plain HTTP, knows
// one confidential client (mod_auth_openidc) and the accounts in accounts.json, signs users in
// with its own small HTML form and grants consent by itself. Demo only: fixed secrets, passwords
// in a JSON file, state in memory (a restart signs everybody out of the provider).
//
//   cd conf/oidc && npm ci && node provider.mjs
//
// Environment:
//   STP_OIDC_PORT            port on 127.0.0.1 (default 8081); the issuer is http://127.0.0.1:PORT
//   STP_OIDC_REDIRECT_URIS   the client's redirect URIs, space-separated
//                            (default http://127.0.0.1:8080/stp/oidc-callback)
//   STP_OIDC_ACCOUNTS        the accounts file (default accounts.json next to this file)
//   STP_OIDC_LOG             1: log every request to stderr
//
// Client: stp-demo / $STP_OIDC_CLIENT_SECRET, client_secret_basic, response type code. Scopes: openid,
// email (email, email_verified), profile (name), stp (tid, roles, licence). The ID token carries the
// claims of the granted scopes (conformIdTokenClaims: false), so mod_auth_openidc needs no
// userinfo call; the userinfo endpoint answers the same claims.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const PORT = Number(process.env.STP_OIDC_PORT || 8081);
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) {
  console.error(`oidc-provider: STP_OIDC_PORT is not a port number: ${process.env.STP_OIDC_PORT}`);
  process.exit(2);
}
const ISSUER = `http://${HOST}:${PORT}`;
const LOG_REQUESTS = process.env.STP_OIDC_LOG === '1';

// The client secret is made per run by whoever starts the provider and httpd (conf/demo.sh,
// tests/lib/demo_server.py): a value fixed in git is one mod_stp rightly refuses as a placeholder.
const CLIENT_SECRET = process.env.STP_OIDC_CLIENT_SECRET;
if (!CLIENT_SECRET || CLIENT_SECRET.length < 16) {
  console.error('oidc-provider: set STP_OIDC_CLIENT_SECRET to a random value of 16 characters or more');
  process.exit(2);
}

const REDIRECT_URIS = (process.env.STP_OIDC_REDIRECT_URIS || 'http://127.0.0.1:8080/stp/oidc-callback')
  .split(/\s+/).filter(Boolean);
const ORIGINS = [];
for (const uri of REDIRECT_URIS) {
  let url;
  try {
    url = new URL(uri);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    console.error(`oidc-provider: STP_OIDC_REDIRECT_URIS: not an absolute http(s) URL: ${uri}`);
    process.exit(2);
  }
  if (!ORIGINS.includes(url.origin)) ORIGINS.push(url.origin);
}
// Where mod_auth_openidc may send the user after signing out (post_logout_redirect_uri): the
// portal's home pages on the origins of the redirect URIs. Any other path on those origins is
// accepted as well (see postLogoutRedirectUriAllowed below); these are what the metadata lists.
const LANGS = ['en', 'de', 'fr', 'ja', 'ar'];
const POST_LOGOUT_REDIRECT_URIS = ORIGINS.flatMap((o) => [`${o}/`, ...LANGS.map((l) => `${o}/${l}/`)]);

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

const ACCOUNTS_FILE = process.env.STP_OIDC_ACCOUNTS || new URL('./accounts.json', import.meta.url);
let ACCOUNTS;
try {
  ACCOUNTS = JSON.parse(fs.readFileSync(ACCOUNTS_FILE, 'utf8')).accounts;
  if (!Array.isArray(ACCOUNTS)) throw new Error('no "accounts" array');
  for (const a of ACCOUNTS) {
    if (typeof a.sub !== 'string' || !a.sub || typeof a.password !== 'string') {
      throw new Error(`every account needs a sub and a password: ${JSON.stringify(a)}`);
    }
  }
} catch (err) {
  console.error(`oidc-provider: cannot read the accounts (${ACCOUNTS_FILE}): ${err.message}`);
  process.exit(2);
}
const BY_SUB = new Map(ACCOUNTS.map((a) => [a.sub, a]));

function accountFor(login) {
  const key = String(login || '').trim().toLowerCase();
  return ACCOUNTS.find((a) => a.sub.toLowerCase() === key || (a.email || '').toLowerCase() === key);
}

function passwordMatches(account, password) {
  const hash = (s) => crypto.createHash('sha256').update(String(s)).digest();
  return crypto.timingSafeEqual(hash(account.password), hash(password));
}

// The claims of an account; oidc-provider keeps only those of the granted scopes.
function claimsOf(account) {
  const claims = { sub: account.sub };
  for (const name of ['email', 'email_verified', 'name', 'tid', 'roles', 'licence']) {
    if (account[name] !== undefined) claims[name] = account[name];
  }
  return claims;
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

const STYLE = 'body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em;line-height:1.4}'
  + 'label{display:block;margin:.8em 0 .2em}input[type=text],input[type=password]{width:100%;padding:.4em;box-sizing:border-box}'
  + 'button{margin-top:1em;padding:.5em 1.5em}.error{color:#a00;font-weight:bold}'
  + 'table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}';

function page(title, body) {
  return '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + `<title>${esc(title)} - STP demo identity provider</title><style>${STYLE}</style></head>`
    + `<body><main><h1>${esc(title)}</h1>\n${body}\n</main></body></html>\n`;
}

// Cancel goes back to the portal rather than answering access_denied: mod_auth_openidc 2.4.12
// takes an error response that carries `iss` (RFC 9207, always sent by oidc-provider 8) for a
// discovery response and shows a confusing error page.
function loginPage(uid, { login = '', error, cancel } = {}) {
  const rows = ACCOUNTS.map((a) => `<tr><td>${esc(a.email || a.sub)}</td><td>${esc(a.password)}</td>`
    + `<td>${esc(a.tid || '(personal)')}</td><td>${esc((a.roles || []).join(', '))}</td></tr>`).join('');
  return page('Sign in', [
    '<p>This is the local identity provider of the STP demo. Do not use real passwords here.</p>',
    error ? `<p class="error" role="alert">${esc(error)}</p>` : '',
    `<form method="post" action="/interaction/${esc(encodeURIComponent(uid))}" autocomplete="off">`,
    '<label for="login">E-mail address</label>',
    `<input type="text" id="login" name="login" value="${esc(login)}" required autofocus>`,
    '<label for="password">Password</label>',
    '<input type="password" id="password" name="password" required>',
    '<button type="submit">Sign in</button>',
    '</form>',
    cancel ? `<p><a href="${esc(cancel)}">Cancel</a></p>` : '',
    '<h2>Demo accounts</h2>',
    `<table><tr><th>E-mail address</th><th>Password</th><th>Tenant</th><th>Roles</th></tr>${rows}</table>`,
  ].join('\n'));
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

// A fresh signing key per run: mod_auth_openidc fetches the JWKS again when it meets an unknown
// key id, so restarting the provider is harmless (sessions at the provider are lost anyway).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const SIGNING_KEY = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `stp-demo-${crypto.randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

// The provider's state (sessions, grants, codes, tokens) in memory, as oidc-provider's own
// development adapter keeps it, without that adapter's startup warning: losing it on restart is
// what a demo wants.
const STORE = new Map();
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest']);

function storeGet(key) {
  const entry = STORE.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt && entry.expiresAt <= Date.now()) {
    STORE.delete(key);
    return undefined;
  }
  return entry.value;
}

function storeSet(key, value, expiresIn) {
  STORE.set(key, { value, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
}

setInterval(() => {
  for (const key of STORE.keys()) storeGet(key);
}, 60 * 1000).unref();

class DemoAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      // The grant's list of tokens lives as long as its longest-lived token.
      const grantKey = `grant:${payload.grantId}`;
      const keys = storeGet(grantKey);
      if (keys) {
        keys.push(this.key(id));
        const entry = STORE.get(grantKey);
        if (entry.expiresAt) entry.expiresAt = expiresIn ? Math.max(entry.expiresAt, Date.now() + expiresIn * 1000) : 0;
      } else {
        storeSet(grantKey, [this.key(id)], expiresIn);
      }
    }
    storeSet(this.key(id), payload, expiresIn);
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    STORE.delete(this.key(id));
  }

  async revokeByGrantId(grantId) { // eslint-disable-line class-methods-use-this
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) || []) STORE.delete(key);
    STORE.delete(grantKey);
  }
}

const configuration = {
  adapter: DemoAdapter,
  clients: [{
    client_id: 'stp-demo',
    client_secret: CLIENT_SECRET,
    client_name: 'STP demo portal',
    application_type: 'web',
    redirect_uris: REDIRECT_URIS,
    post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [SIGNING_KEY] },
  // Fixed cookie signing keys: demo only.
  cookies: {
    keys: ['stp-demo-oidc-cookie-key-not-a-secret'],
    // Lax rather than the default None for the long-lived session cookie: SameSite=None needs
    // Secure, which plain HTTP cannot have. 127.0.0.1:8080 and :8081 are the same site anyway.
    long: { signed: true, httpOnly: true, sameSite: 'lax' },
    short: { signed: true, httpOnly: true, sameSite: 'lax' },
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    stp: ['tid', 'roles', 'licence'],
  },
  // The ID token carries the claims of the granted scopes, not only the userinfo endpoint.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const account = BY_SUB.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return claimsOf(account);
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Asks once, and confirms by itself where JavaScript runs; the form works without it.
      async logoutSource(ctx) {
        const action = ctx.oidc.urlFor('end_session_confirm');
        const secret = ctx.oidc.session.state.secret;
        ctx.type = 'html';
        ctx.body = page('Sign out', [
          '<p>Sign out of the STP demo identity provider?</p>',
          `<form id="logout" method="post" action="${esc(action)}">`,
          `<input type="hidden" name="xsrf" value="${esc(secret)}">`,
          '<input type="hidden" name="logout" value="yes">',
          '<button type="submit">Sign out</button>',
          '</form>',
          '<script>document.getElementById("logout").submit();</script>',
        ].join('\n'));
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p>You are signed out of the STP demo identity provider.</p>');
      },
    },
  },
  pkce: {
    methods: ['S256'],
    // Required of public clients only: stp-demo is confidential, and mod_auth_openidc 2.4.12
    // sends PKCE only when OIDCPKCEMethod is set (the snippet sets S256; both ways work).
    required: (ctx, client) => client.clientAuthMethod === 'none',
  },
  clientBasedCORS: () => false,
  ttl: {
    AccessToken: 60 * 60,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    Interaction: 60 * 60,
    Session: 8 * 60 * 60,
    Grant: 8 * 60 * 60,
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<p class="error" role="alert">${esc(out.error)}: ${esc(out.error_description)}</p>`);
  },
};

const provider = new Provider(ISSUER, configuration);

// Any path on the portal's origins may follow a sign-out, not only the listed home pages.
const listedPostLogout = provider.Client.prototype.postLogoutRedirectUriAllowed;
provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(value) {
  if (listedPostLogout.call(this, value)) return true;
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return ['http:', 'https:'].includes(url.protocol) && !url.hash && !url.username && !url.password
    && this.redirectUris.some((r) => new URL(r).origin === url.origin);
};

for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
  'jwks.error', 'discovery.error', 'introspection.error', 'revocation.error', 'backchannel.error']) {
  provider.on(event, (ctx, err) => {
    const detail = err && err.error_description ? ` (${err.error_description})` : '';
    console.error(`oidc-provider: ${event}: ${ctx && ctx.method} ${ctx && ctx.path}: ${err && (err.stack && event === 'server_error' ? err.stack : err.message)}${detail}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Interactions: the sign-in form and automatic consent
// ---------------------------------------------------------------------------------------------

const FORM_LIMIT = 8192;

function readForm(req) {
  return new Promise((resolve, reject) => {
    const type = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      reject(Object.assign(new Error('the form must be application/x-www-form-urlencoded'), { status: 415 }));
      return;
    }
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > FORM_LIMIT) {
        req.removeAllListeners('data');
        req.resume();
        reject(Object.assign(new Error('form too large'), { status: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

async function grantConsent(req, res, details) {
  const { prompt: { details: missing }, params, session: { accountId } } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

async function interaction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    send(res, 400, page('Sign-in expired', `<p class="error" role="alert">${esc(err.error_description || err.message)}. `
      + 'Go back to the portal and sign in again.</p>'));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Sign-in expired', '<p class="error" role="alert">This sign-in is not the current one. '
      + 'Go back to the portal and sign in again.</p>'));
    return;
  }
  const prompt = details.prompt.name;
  let cancel;
  try {
    cancel = `${new URL(details.params.redirect_uri).origin}/`;
  } catch {
    cancel = undefined;
  }

  if (prompt === 'consent') {
    await grantConsent(req, res, details);
    return;
  }
  if (prompt !== 'login') {
    send(res, 400, page('Sign-in error', `<p class="error" role="alert">Unsupported prompt ${esc(prompt)}.</p>`));
    return;
  }

  if (req.method === 'GET') {
    send(res, 200, loginPage(uid, { login: details.params.login_hint || '', cancel }));
    return;
  }
  const form = await readForm(req);
  const login = form.get('login') || '';
  const account = accountFor(login);
  if (!account || !passwordMatches(account, form.get('password') || '')) {
    send(res, 401, loginPage(uid, { login, cancel, error: 'Wrong e-mail address or password.' }));
    return;
  }
  await provider.interactionFinished(req, res, {
    login: { accountId: account.sub, remember: true },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

const providerCallback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)$/;

const server = http.createServer((req, res) => {
  if (LOG_REQUESTS) {
    res.on('finish', () => console.error(`oidc-provider: ${req.method} ${req.url} ${res.statusCode}`));
  }
  const path = req.url.split('?')[0];
  const m = INTERACTION.exec(path);
  if (!m) {
    providerCallback(req, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'POST') {
    res.setHeader('Allow', 'GET, POST');
    send(res, 405, page('Method not allowed', ''));
    return;
  }
  interaction(req, res, m[1]).catch((err) => {
    if (err.status && err.status < 500) {
      if (!res.headersSent) send(res, err.status, page('Bad request', `<p class="error" role="alert">${esc(err.message)}</p>`));
      return;
    }
    console.error(`oidc-provider: interaction ${req.method} ${req.url}: ${err.stack || err}`);
    if (!res.headersSent) send(res, 500, page('Server error', '<p class="error" role="alert">Internal error.</p>'));
    else res.destroy();
  });
});

server.on('error', (err) => {
  console.error(`oidc-provider: cannot listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
});

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

server.listen(PORT, HOST, () => {
  console.log(`oidc-provider listening on ${ISSUER}`);
});
