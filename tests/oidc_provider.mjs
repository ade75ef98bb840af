// A real OpenID Connect provider for the tests (npm oidc-provider), on loopback only.
//
//   node tests/oidc_provider.mjs PORT REDIRECT_URIS ACCOUNTS_JSON_FILE   (URIs comma-separated)
//
// One static client (id "rathaus", secret "rathaus-test-secret", the given redirect URIs).
// The accounts are read from the JSON file at every sign-in ({"anna": {"name": …, "email":
// …, "groups": [...]}, …}), so a test can change a person's groups between two logins.
// The provider's own development login page takes any password for a listed account; the
// consent step is skipped (the grant is made at once). Prints "ready <issuer>" when listening.
import fs from 'node:fs';

import Provider from 'oidc-provider';

const [port, redirectUris, accountsFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const accounts = () => JSON.parse(fs.readFileSync(accountsFile, 'utf8'));

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'rathaus',
    client_secret: 'rathaus-test-secret',
    redirect_uris: redirectUris.split(","),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // The claims go into the ID token as well, so the client needs no userinfo request.
  conformIdTokenClaims: false,
  cookies: { keys: ['rathaus-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, ...account };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    await grant.save();
    return grant;
  },
});
// The development login page warns on every start; the tests know it is one.
provider.on('server_error', (ctx, error) => console.error(error));

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
