// server.mjs: a real OpenID Connect / OAuth 2.0 authorization server for
// tests/integration/test_oauth2.sh: oidc-provider (OpenID certified) over
// HTTPS on 127.0.0.1, with the device flow, token introspection (for
// Dovecot's oauth2 passdb) and revocation on.  Only the end-user pages
// are ours: the interaction endpoints below take a login name and a
// consent by form POST, so that a test can play the user with curl.
//
// Environment: OP_PORT, OP_CERT, OP_KEY (PEM), OP_LOG (one line per
// request: "REQ METHOD PATH", and per token grant "GRANT ok|error
// GRANT_TYPE [ERROR]"), OP_AT_TTL (access token lifetime, s).
import fs from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `https://127.0.0.1:${port}`;
const logFile = process.env.OP_LOG;
const log = (line) => fs.appendFileSync(logFile, `${line}\n`);

const grantTypes = ['authorization_code', 'refresh_token',
  'urn:ietf:params:oauth:grant-type:device_code'];

const page = (body) => `<!DOCTYPE html><html><body>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [
    { // a public native client, as imapsift is
      client_id: 'imapsift',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: grantTypes,
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/'],
    },
    { // a confidential one (Google's "desktop" clients have a secret)
      client_id: 'imapsift-secret',
      client_secret: 'imapsift-client-secret',
      application_type: 'native',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: grantTypes,
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/'],
    },
    { // Dovecot's passdb, which only introspects
      client_id: 'dovecot',
      client_secret: 'dovecot-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  findAccount: async (ctx, id) => ({
    accountId: id,
    async claims() { return { sub: id }; },
  }),
  scopes: ['openid', 'offline_access'],
  ttl: {
    AccessToken: Number(process.env.OP_AT_TTL || 3600),
    RefreshToken: 86400,
    DeviceCode: 600,
    Grant: 86400,
    Interaction: 600,
    Session: 86400,
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  cookies: { keys: ['imapsift-test-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: async (ctx, form) => { ctx.body = page(form); },
      userCodeConfirmSource: async (ctx, form, client, info, code) => {
        ctx.body = page(`<p>code ${code}</p>${form}`);
      },
      successSource: async (ctx) => { ctx.body = page('<p>device approved</p>'); },
    },
  },
});

provider.on('grant.success', (ctx) => log(`GRANT ok ${ctx.oidc.params.grant_type}`));
provider.on('grant.error', (ctx, err) => log(`GRANT error ${ctx.oidc.params?.grant_type} ${err.error}`));
provider.on('server_error', (ctx, err) => log(`SERVER_ERROR ${err.stack}`));

const form = (req) => new Promise((resolve, reject) => {
  let b = '';
  req.on('data', (d) => { b += d; if (b.length > 65536) reject(new Error('big')); });
  req.on('end', () => resolve(new URLSearchParams(b)));
  req.on('error', reject);
});

// The end-user side: GET /interaction/UID tells the prompt as JSON;
// POST .../login (login=NAME) signs NAME in; POST .../confirm grants
// what is asked; POST .../abort refuses.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ uid, prompt: details.prompt.name }));
    return;
  }
  if (action === 'login') {
    const login = (await form(req)).get('login');
    await provider.interactionFinished(req, res, { login: { accountId: login } },
      { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the user said no',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const { prompt: { details: missing }, params, session: { accountId } } = details;
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : null;
  if (!grant) grant = new provider.Grant({ accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [ind, sc] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(ind, sc.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } },
    { mergeWithLastSubmission: true });
}

const handler = provider.callback();
https.createServer({
  cert: fs.readFileSync(process.env.OP_CERT),
  key: fs.readFileSync(process.env.OP_KEY),
}, async (req, res) => {
  const path = req.url.split('?')[0];
  log(`REQ ${req.method} ${path}`);
  const m = path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
  if (!m) { handler(req, res); return; }
  try {
    await interaction(req, res, m[1], m[2]);
  } catch (e) {
    log(`INTERACTION_ERROR ${e.message}`);
    res.statusCode = 400;
    res.end(`interaction failed: ${e.message}\n`);
  }
}).listen(port, '127.0.0.1', () => log(`LISTENING ${issuer}`));
