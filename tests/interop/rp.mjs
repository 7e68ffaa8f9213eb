// Keygate driven by an independent relying party: panva's openid-client (OpenID Certified RP
// library), pinned in package-lock.json. Starting from nothing but the issuer URL, it discovers
// the tenant, registers its own clients (RFC 7591) and runs every flow the discovery document
// advertises, through the real sign-in, consent and sign-out pages.
//
// `cargo test --test interop` runs this against a freshly started `keygate` binary. To run it
// alone against a server you started yourself (a tenant whose `registration` is `open`, and a
// user in it):
//
//   npm ci --prefix tests/interop
//   KEYGATE_ISSUER=http://127.0.0.1:8080/acme KEYGATE_USERNAME=ann \
//   KEYGATE_PASSWORD='correct horse battery' KEYGATE_EMAIL=ann@example.com \
//   node tests/interop/rp.mjs            # KEYGATE_INTEROP_VERBOSE=1 prints every HTTP exchange
//
// The one accommodation: Keygate runs on plain http on loopback here, so every configuration is
// made with `allowInsecureRequests` (the library refuses non-TLS endpoints otherwise). Because
// there is no TLS to authenticate the issuer, `enableNonRepudiationChecks` is on too, so the
// library verifies every ID token's signature against the tenant's `jwks_uri` (OIDC Core
// §3.1.3.7 step 6).
//
// Output: one line per step (`ok`, `FAIL`, `skip`); a failure prints the error and the HTTP
// exchanges of that step. A failed step skips the steps of its flow that need it; everything
// else still runs, so one run shows every fault. Exit status 1 if any step failed.

import assert from 'node:assert/strict'
import * as client from 'openid-client'

const issuer = new URL(required('KEYGATE_ISSUER'))
const username = required('KEYGATE_USERNAME')
const password = required('KEYGATE_PASSWORD')
const email = process.env.KEYGATE_EMAIL
const verbose = Boolean(process.env.KEYGATE_INTEROP_VERBOSE)

// Redirect URIs: loopback addresses nothing listens on. The browser below never follows a
// redirect to them; it hands the URL to the library, as a real callback handler would.
const REDIRECT_URI = 'http://127.0.0.1:9/callback'
const POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1:9/signed-out'
// What a standard OpenID Connect RP asks for: identity, email and profile claims.
const SCOPE = 'openid email profile'
// Only the http accommodation, plus signature checks of ID tokens (see above).
const EXECUTE = [client.allowInsecureRequests, client.enableNonRepudiationChecks]

function required(name) {
  const value = process.env[name]
  if (!value) {
    console.error(`${name} is not set; see the comment at the top of ${import.meta.url}`)
    process.exit(2)
  }
  return value
}

// ---------------------------------------------------------------------------------------------
// HTTP trace: every request the library or the browser makes, kept per step for failure output.

let trace = []

function clip(text, max = 1500) {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text
}

function describeBody(body) {
  if (body === undefined || body === null) return ''
  if (body instanceof URLSearchParams) return body.toString()
  if (typeof body === 'string') return body
  return `[${body.constructor?.name ?? typeof body}]`
}

async function traced(url, options = {}) {
  const method = options.method ?? 'GET'
  const headers = new Headers(options.headers)
  const response = await fetch(url, options)
  let text = ''
  try {
    text = await response.clone().text()
  } catch {}
  const entry = {
    request: `${method} ${url}`,
    requestHeaders: ['authorization', 'content-type', 'cookie']
      .filter((h) => headers.has(h))
      .map((h) => `${h}: ${clip(headers.get(h), 200)}`),
    requestBody: describeBody(options.body),
    status: response.status,
    responseHeaders: ['content-type', 'location', 'www-authenticate']
      .filter((h) => response.headers.has(h))
      .map((h) => `${h}: ${clip(response.headers.get(h), 300)}`),
    responseBody: (response.headers.get('content-type') ?? '').includes('html') ? pageText(text) : text,
  }
  // Successful answers (the discovery document, the JWKS) matter less than refusals: keep them short.
  if (response.ok) entry.responseBody = clip(entry.responseBody, 400)
  trace.push(entry)
  if (verbose) printExchange(entry, '    ')
  return response
}

function printExchange(entry, indent) {
  console.log(`${indent}> ${entry.request}`)
  for (const h of entry.requestHeaders) console.log(`${indent}>   ${h}`)
  if (entry.requestBody) console.log(`${indent}>   ${clip(entry.requestBody)}`)
  console.log(`${indent}< ${entry.status}`)
  for (const h of entry.responseHeaders) console.log(`${indent}<   ${h}`)
  if (entry.responseBody) console.log(`${indent}<   ${clip(entry.responseBody)}`)
}

// ---------------------------------------------------------------------------------------------
// Steps and flows.

const results = []

/**
 * Runs the steps of one flow in order. A step is `[id, description, needs, run]`: it is skipped
 * when a step it `needs` (ids of earlier steps of the flow) did not pass; `run` returns an
 * optional note for the output.
 */
async function flow(title, steps) {
  console.log(`\n# ${title}`)
  const passed = new Set()
  for (const [id, name, needs, run] of steps) {
    const label = `${title} / ${name}`
    const missing = needs.find((need) => !passed.has(need))
    if (missing) {
      console.log(`skip  ${name} (needs "${missing}")`)
      results.push({ label, outcome: 'skip' })
      continue
    }
    trace = []
    const started = Date.now()
    try {
      const note = await run()
      console.log(`ok    ${name}${note ? ` — ${note}` : ''} (${Date.now() - started} ms)`)
      results.push({ label, outcome: 'ok' })
      passed.add(id)
    } catch (error) {
      console.log(`FAIL  ${name}`)
      for (const line of describeError(error)) console.log(`      ${line}`)
      if (trace.length && !verbose) {
        console.log('      HTTP exchanges of this step (last 6):')
        for (const entry of trace.slice(-6)) printExchange(entry, '        ')
      }
      results.push({ label, outcome: 'FAIL', error: headline(error) })
    }
  }
}

function describeError(error) {
  const lines = `${error?.name ?? 'Error'}: ${error?.message ?? error}`.split('\n')
  for (const key of ['code', 'status', 'error', 'error_description']) {
    if (error?.[key] !== undefined) lines.push(`${key}: ${error[key]}`)
  }
  if (error?.cause && typeof error.cause === 'object' && !(error.cause instanceof Error)) {
    lines.push(`cause: ${clip(JSON.stringify(error.cause), 800)}`)
  } else if (error?.cause instanceof Error) {
    lines.push(`cause: ${error.cause.name}: ${error.cause.message}`)
  }
  return lines
}

/** One line saying what went wrong, for the summary. */
function headline(error) {
  if (error?.error) {
    const status = error.status ? `${error.status} ` : ''
    return `${status}${error.error}: ${error.error_description ?? '(no error_description)'}`
  }
  return String(error?.message ?? error).split('\n')[0]
}

/** Asserts that `promise` is rejected with the OAuth `error` code (RFC 6749 §5.2). */
async function refusedWith(promise, code) {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof client.ResponseBodyError, `expected an OAuth error response, got ${error}`)
    assert.equal(error.error, code, `expected error "${code}", got "${error.error}": ${error.error_description}`)
    return `refused: ${error.status} ${error.error} (${error.error_description ?? 'no description'})`
  }
  assert.fail(`expected the server to refuse with "${code}", but it accepted`)
}

// ---------------------------------------------------------------------------------------------
// A browser: a cookie jar, forms read from the HTML, redirects followed except to the client.

class Browser {
  cookies = new Map()

  async request(url, { method = 'GET', form } = {}) {
    const headers = new Headers()
    if (this.cookies.size) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    }
    let body
    if (form) {
      body = new URLSearchParams(form)
      headers.set('content-type', 'application/x-www-form-urlencoded')
    }
    const response = await traced(String(url), { method, headers, body, redirect: 'manual' })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))
      if (expired || !value) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await response.text()
    const location = response.headers.get('location')
    return {
      url: String(url),
      status: response.status,
      location: location ? new URL(location, url).href : null,
      html: text,
    }
  }

  /**
   * Follows `start` through Keygate's pages the way a user would — signing in, allowing consent
   * or confirming sign-out — until the server redirects to `target`; returns that URL.
   */
  async until(start, target, { decision } = {}) {
    let page = await this.request(start)
    for (let hop = 0; hop < 10; hop++) {
      if (page.location) {
        if (page.location.startsWith(target)) return new URL(page.location)
        page = await this.request(page.location)
        continue
      }
      if (page.status !== 200) throw pageError(page, 'an error page')
      const form = readForm(page)
      if (!form) throw pageError(page, 'a page without a form')
      if ('password' in form.fields) {
        page = await this.request(form.action, {
          method: 'POST',
          form: { ...form.fields, username, password },
        })
      } else if (form.buttons.includes(decision ?? 'allow')) {
        page = await this.request(form.action, {
          method: 'POST',
          form: { ...form.fields, decision: decision ?? 'allow' },
        })
      } else {
        throw pageError(page, `a form without a "${decision ?? 'allow'}" button`)
      }
    }
    throw new Error(`no redirect to ${target} after 10 pages`)
  }
}

/** The first form of a page: its action, its inputs' values, and its buttons' decision values. */
function readForm(page) {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page.html)
  if (!form) return null
  const fields = {}
  for (const [tag] of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = attribute(tag, 'name')
    if (name) fields[name] = attribute(tag, 'value') ?? ''
  }
  const buttons = [...form[2].matchAll(/<button\b[^>]*>/gi)]
    .map(([tag]) => attribute(tag, 'value'))
    .filter(Boolean)
  return { action: new URL(unescape(form[1]), page.url).href, fields, buttons }
}

function attribute(tag, name) {
  const match = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag)
  return match ? unescape(match[1]) : undefined
}

function unescape(text) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity) => {
    if (entity[0] !== '#') return named[entity.toLowerCase()] ?? whole
    const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10)
    return String.fromCodePoint(code)
  })
}

/** The visible text of an HTML page, for failure messages. */
function pageText(html) {
  const title = /<title>([\s\S]*?)<\/title>/i.exec(html)?.[1]?.trim()
  const main = html
    .replace(/<head>[\s\S]*?<\/head>/i, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return unescape(title ? `[${title}] ${main}` : main)
}

function pageError(page, what) {
  return new Error(`expected Keygate's pages to lead on, got ${what}: ${page.status} ${clip(pageText(page.html), 400)}`)
}

// ---------------------------------------------------------------------------------------------
// The relying party's side of each flow, written as the library documents it.

/** Registers a client (RFC 7591) with `metadata`, authenticating later requests with `auth`. */
async function register(metadata, auth) {
  const config = await client.dynamicClientRegistration(issuer, metadata, auth, {
    execute: EXECUTE,
    [client.customFetch]: traced,
  })
  config[client.customFetch] = traced
  const registered = config.clientMetadata()
  assert.ok(registered.client_id, 'the registration response carries client_id')
  return config
}

/** Authorization code + PKCE (+ state and nonce) through the browser; returns the tokens. */
async function signIn(config, browser) {
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  const callback = await browser.until(authorizationUrl, REDIRECT_URI)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  return tokens
}

/** What every signed-in flow checks of its tokens and the UserInfo answer. */
function checkTokens(config, tokens) {
  assert.equal(tokens.token_type.toLowerCase(), 'bearer')
  assert.ok(tokens.access_token, 'an access token')
  const claims = tokens.claims()
  assert.ok(claims, 'an ID token (validated by the library, signature checked against jwks_uri)')
  assert.equal(claims.iss, issuer.href)
  assert.ok([].concat(claims.aud).includes(config.clientMetadata().client_id), 'the ID token is for this client')
  return claims
}

async function checkUserInfo(config, tokens) {
  const claims = tokens.claims()
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  assert.equal(info.sub, claims.sub)
  if (email) assert.equal(info.email, email, 'UserInfo returns the email the `email` scope asks for')
  assert.equal(info.preferred_username, username, 'UserInfo returns the profile the `profile` scope asks for')
  return `sub=${info.sub} email=${info.email} preferred_username=${info.preferred_username}`
}

const DISCOVERY_REQUIREMENTS = {
  registration_endpoint: 'dynamic registration',
  authorization_endpoint: 'the authorization code flow',
  token_endpoint: 'every grant',
  jwks_uri: 'ID token validation',
  userinfo_endpoint: 'UserInfo',
  introspection_endpoint: 'introspection',
  revocation_endpoint: 'revocation',
  end_session_endpoint: 'RP-initiated logout',
}

/** Generates a signing key pair for one of `algorithms` that WebCrypto can make. */
async function clientKeyPair(algorithms) {
  const params = {
    ES256: { name: 'ECDSA', namedCurve: 'P-256' },
    RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    PS256: { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    EdDSA: { name: 'Ed25519' },
  }
  const alg = Object.keys(params).find((a) => algorithms.includes(a))
  assert.ok(alg, `no private_key_jwt signing algorithm this RP can make among ${algorithms}`)
  const { privateKey, publicKey } = await crypto.subtle.generateKey(params[alg], true, ['sign', 'verify'])
  const kid = `interop-${Date.now()}`
  const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid, alg, use: 'sig' }
  delete jwk.key_ops
  delete jwk.ext
  return { alg, kid, privateKey, jwk }
}

// ---------------------------------------------------------------------------------------------
// The flows.

console.log(`openid-client interoperability run against ${issuer.href}`)

let server // the discovered metadata

await flow('discovery', [
  [
    'discovery',
    'OpenID Connect Discovery (issuer matches, endpoints present)',
    [],
    async () => {
      // No client yet: the library's discovery needs a client_id, so give it a placeholder; the
      // configuration is only read, never used for a request.
      const config = await client.discovery(issuer, 'discovery-only', undefined, undefined, {
        execute: EXECUTE,
        [client.customFetch]: traced,
      })
      server = config.serverMetadata()
      const missing = Object.entries(DISCOVERY_REQUIREMENTS)
        .filter(([key]) => !server[key])
        .map(([key, use]) => `${key} (for ${use})`)
      assert.deepEqual(missing, [], 'the discovery document lacks what these flows need')
      assert.ok(server.supportsPKCE(), 'S256 PKCE is advertised')
      for (const grant of ['authorization_code', 'refresh_token', 'client_credentials']) {
        assert.ok(server.grant_types_supported?.includes(grant), `grant_types_supported lists ${grant}`)
      }
      for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']) {
        assert.ok(
          server.token_endpoint_auth_methods_supported?.includes(method),
          `token_endpoint_auth_methods_supported lists ${method}`,
        )
      }
      for (const scope of SCOPE.split(' ')) {
        assert.ok(server.scopes_supported?.includes(scope), `scopes_supported lists ${scope}`)
      }
      return `${Object.keys(server).length} metadata fields`
    },
  ],
  [
    'jwks',
    'the JWKS holds a key for every advertised id_token signing algorithm',
    ['discovery'],
    async () => {
      const response = await traced(server.jwks_uri)
      assert.equal(response.status, 200)
      const { keys } = await response.json()
      // A key serves `alg` if it says so, or (without `alg`) if its type fits (RFC 7518 §3.1).
      const fits = (key, alg) =>
        key.alg
          ? key.alg === alg
          : (/^(RS|PS)/.test(alg) && key.kty === 'RSA') ||
            (alg === 'ES256' && key.crv === 'P-256') ||
            (alg === 'EdDSA' && key.kty === 'OKP')
      const advertised = server.id_token_signing_alg_values_supported ?? []
      const missing = advertised.filter((alg) => !keys.some((key) => key.use !== 'enc' && fits(key, alg)))
      const published = keys.map((k) => k.alg ?? k.kty).join(', ')
      assert.deepEqual(missing, [], `advertised algorithms without a published key (published: ${published})`)
      return `keys: ${published}`
    },
  ],
])

if (!server) {
  summary()
}

// 1. A confidential web application: client_secret_basic, code + refresh + client_credentials,
//    registered the way OIDC Dynamic Client Registration 1.0 describes (no `scope` field).
{
  let config, first, second, third
  const browser = new Browser()
  await flow('web app (client_secret_basic)', [
    [
      'register',
      'register: code, refresh_token, client_credentials; no scope field',
      [],
      async () => {
        config = await register(
          {
            client_name: 'interop web app',
            redirect_uris: [REDIRECT_URI],
            post_logout_redirect_uris: [POST_LOGOUT_REDIRECT_URI],
            grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
          client.ClientSecretBasic(),
        )
        const registered = config.clientMetadata()
        assert.ok(registered.client_secret, 'a confidential client gets a client_secret')
        assert.equal(registered.token_endpoint_auth_method, 'client_secret_basic')
        return `client_id=${registered.client_id} scope=${JSON.stringify(registered.scope)}`
      },
    ],
    [
      'code',
      `authorization code + PKCE, scope "${SCOPE}", through sign-in and consent`,
      ['register'],
      async () => {
        first = await signIn(config, browser)
        const claims = checkTokens(config, first)
        assert.ok(first.refresh_token, 'a refresh token (refresh_token grant registered)')
        return `sub=${claims.sub} scope=${JSON.stringify(first.scope)}`
      },
    ],
    ['userinfo', 'UserInfo', ['code'], () => checkUserInfo(config, first)],
    [
      'refresh',
      'refresh: a new refresh token (rotation) and a new access token',
      ['code'],
      async () => {
        second = await client.refreshTokenGrant(config, first.refresh_token)
        assert.ok(second.access_token)
        assert.ok(second.refresh_token, 'the refresh response carries the next refresh token')
        assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token is rotated')
        if (second.id_token) assert.equal(second.claims().sub, first.claims().sub)
        return `scope=${JSON.stringify(second.scope)}`
      },
    ],
    [
      'reuse',
      'refresh with the rotated-out refresh token is refused (invalid_grant)',
      ['refresh'],
      () => refusedWith(client.refreshTokenGrant(config, first.refresh_token), 'invalid_grant'),
    ],
    [
      'again',
      'authorize again: the session and consent carry over, no pages shown',
      ['code'],
      async () => {
        third = await signIn(config, browser)
        checkTokens(config, third)
        assert.equal(third.claims().sub, first.claims().sub)
      },
    ],
    [
      'introspect',
      'introspection (RFC 7662) of the access and refresh tokens',
      ['again'],
      async () => {
        const access = await client.tokenIntrospection(config, third.access_token)
        assert.equal(access.active, true, 'the access token is active')
        assert.equal(access.client_id, config.clientMetadata().client_id)
        assert.equal(access.sub, third.claims().sub)
        const refresh = await client.tokenIntrospection(config, third.refresh_token, {
          token_type_hint: 'refresh_token',
        })
        assert.equal(refresh.active, true, 'the refresh token is active')
        return `access scope=${JSON.stringify(access.scope)}`
      },
    ],
    [
      'revoke',
      'revocation (RFC 7009) of the refresh token; it is then inactive and refused',
      ['again'],
      async () => {
        await client.tokenRevocation(config, third.refresh_token, { token_type_hint: 'refresh_token' })
        const refresh = await client.tokenIntrospection(config, third.refresh_token)
        assert.equal(refresh.active, false, 'the revoked refresh token is inactive')
        await refusedWith(client.refreshTokenGrant(config, third.refresh_token), 'invalid_grant')
        // RFC 7009 §2.1: the access tokens of the grant go with it (a SHOULD Keygate implements).
        const access = await client.tokenIntrospection(config, third.access_token)
        assert.equal(access.active, false, "the grant's access token is inactive too")
      },
    ],
    [
      'client_credentials',
      'client_credentials grant, authenticating with client_secret_basic',
      ['register'],
      async () => {
        const tokens = await client.clientCredentialsGrant(config)
        assert.ok(tokens.access_token)
        assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials (RFC 6749 §4.4.3)')
        const info = await client.tokenIntrospection(config, tokens.access_token)
        assert.equal(info.active, true)
        assert.equal(info.client_id, config.clientMetadata().client_id)
        return `scope=${JSON.stringify(tokens.scope)}`
      },
    ],
    [
      'logout',
      'RP-initiated logout with id_token_hint and post_logout_redirect_uri, confirmed on the page',
      ['again'],
      async () => {
        const state = client.randomState()
        const endSession = client.buildEndSessionUrl(config, {
          id_token_hint: third.id_token,
          post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
          state,
        })
        const back = await browser.until(endSession, POST_LOGOUT_REDIRECT_URI, { decision: 'logout' })
        assert.equal(back.searchParams.get('state'), state, 'the state comes back')
        // The session is gone: a new authorization request shows the sign-in page again.
        const again = client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT_URI,
          scope: SCOPE,
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
          state: client.randomState(),
        })
        const page = await browser.request(again)
        assert.equal(page.status, 200, `expected the sign-in page, got ${page.status} ${page.location ?? ''}`)
        assert.ok('password' in (readForm(page)?.fields ?? {}), 'the sign-in form is shown again')
      },
    ],
  ])
}

// 2. A backend service: client_secret_post, client_credentials only. It redirects nobody, so it
//    registers no redirect_uris (RFC 7591 §2) and no response types (§2.1: none go with
//    client_credentials).
{
  let config, tokens
  await flow('service (client_secret_post)', [
    [
      'register',
      'register: client_credentials only, no redirect_uris',
      [],
      async () => {
        config = await register(
          {
            client_name: 'interop service',
            grant_types: ['client_credentials'],
            response_types: [],
            token_endpoint_auth_method: 'client_secret_post',
          },
          client.ClientSecretPost(),
        )
        assert.ok(config.clientMetadata().client_secret)
        return `client_id=${config.clientMetadata().client_id}`
      },
    ],
    [
      'client_credentials',
      'client_credentials grant, authenticating with client_secret_post',
      ['register'],
      async () => {
        tokens = await client.clientCredentialsGrant(config)
        assert.ok(tokens.access_token)
        return `scope=${JSON.stringify(tokens.scope)} expires_in=${tokens.expires_in}`
      },
    ],
    [
      'introspect',
      'introspection and revocation of the access token',
      ['client_credentials'],
      async () => {
        const before = await client.tokenIntrospection(config, tokens.access_token)
        assert.equal(before.active, true)
        assert.equal(before.client_id, config.clientMetadata().client_id)
        await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' })
        const after = await client.tokenIntrospection(config, tokens.access_token)
        assert.equal(after.active, false, 'the revoked access token is inactive')
      },
    ],
  ])
}

// 3. A confidential client that authenticates with a key pair it generated (private_key_jwt,
//    RFC 7523), registering its public key in `jwks`.
{
  let config, tokens
  const browser = new Browser()
  await flow('private_key_jwt client', [
    [
      'register',
      'register with the public JWK in jwks',
      [],
      async () => {
        const key = await clientKeyPair(server.token_endpoint_auth_signing_alg_values_supported ?? [])
        config = await register(
          {
            client_name: 'interop private_key_jwt',
            redirect_uris: [REDIRECT_URI],
            grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
            response_types: ['code'],
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: key.alg,
            jwks: { keys: [key.jwk] },
          },
          client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
        )
        assert.equal(config.clientMetadata().client_secret, undefined, 'no secret for private_key_jwt')
        return `client_id=${config.clientMetadata().client_id} key=${key.alg}`
      },
    ],
    [
      'code',
      'authorization code + PKCE, the code exchanged with a client assertion',
      ['register'],
      async () => {
        tokens = await signIn(config, browser)
        const claims = checkTokens(config, tokens)
        return `sub=${claims.sub}`
      },
    ],
    ['userinfo', 'UserInfo', ['code'], () => checkUserInfo(config, tokens)],
    [
      'refresh',
      'refresh with a client assertion',
      ['code'],
      async () => {
        const next = await client.refreshTokenGrant(config, tokens.refresh_token)
        assert.notEqual(next.refresh_token, tokens.refresh_token)
        tokens = next
      },
    ],
    [
      'introspect',
      'introspection with a client assertion',
      ['code'],
      async () => {
        const info = await client.tokenIntrospection(config, tokens.access_token)
        assert.equal(info.active, true)
      },
    ],
    [
      'client_credentials',
      'client_credentials grant with a client assertion',
      ['register'],
      async () => {
        const own = await client.clientCredentialsGrant(config)
        assert.ok(own.access_token)
      },
    ],
  ])
}

// 4. A public client (a single-page or native app): no secret, PKCE only. It runs as a browser
//    app would: every request it makes carries its page's `Origin` (the redirect URI's), and a
//    browser hands the app a cross-origin answer only if `Access-Control-Allow-Origin` names that
//    origin or is `*` (the Fetch standard's CORS check). It registers no Keygate-specific
//    metadata: the default for a public web client must let it read its token responses.
{
  let config, tokens
  const browser = new Browser()
  const appOrigin = new URL(REDIRECT_URI).origin
  const seen = []
  /** `traced`, sent from the app's origin; remembers what the CORS check would see. */
  async function fromApp(url, options = {}) {
    const headers = new Headers(options.headers)
    headers.set('origin', appOrigin)
    const response = await traced(url, { ...options, headers })
    seen.push({ url: new URL(url), allowed: response.headers.get('access-control-allow-origin') })
    return response
  }
  /** Asserts that the browser would have handed the app every answer since the last call, and
   *  that one of them came from `endpoint` (a URL of the discovery document). */
  function readableFromApp(endpoint) {
    const answers = seen.splice(0)
    for (const { url, allowed } of answers) {
      assert.ok(allowed === '*' || allowed === appOrigin, `a browser would hide ${url.pathname} from ${appOrigin} (Access-Control-Allow-Origin: ${allowed})`)
    }
    assert.ok(answers.some(({ url }) => url.href === endpoint), `no request to ${endpoint}`)
  }
  await flow('public client (none + PKCE)', [
    [
      'register',
      'register with token_endpoint_auth_method none',
      [],
      async () => {
        config = await register(
          {
            client_name: 'interop public client',
            redirect_uris: [REDIRECT_URI],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          },
          client.None(),
        )
        assert.equal(config.clientMetadata().client_secret, undefined, 'no secret for a public client')
        config[client.customFetch] = fromApp
        return `client_id=${config.clientMetadata().client_id}`
      },
    ],
    [
      'code',
      'authorization code + PKCE, the code exchanged without client authentication',
      ['register'],
      async () => {
        tokens = await signIn(config, browser)
        const claims = checkTokens(config, tokens)
        readableFromApp(config.serverMetadata().token_endpoint)
        return `sub=${claims.sub}, readable from ${appOrigin}`
      },
    ],
    [
      'userinfo',
      'UserInfo',
      ['code'],
      async () => {
        await checkUserInfo(config, tokens)
        readableFromApp(config.serverMetadata().userinfo_endpoint)
      },
    ],
    [
      'refresh',
      'refresh (rotated)',
      ['code'],
      async () => {
        const next = await client.refreshTokenGrant(config, tokens.refresh_token)
        assert.ok(next.refresh_token)
        assert.notEqual(next.refresh_token, tokens.refresh_token)
        tokens = next
        readableFromApp(config.serverMetadata().token_endpoint)
      },
    ],
    [
      'revoke',
      'revocation of the refresh token; it is then refused',
      ['refresh'],
      async () => {
        await client.tokenRevocation(config, tokens.refresh_token)
        await refusedWith(client.refreshTokenGrant(config, tokens.refresh_token), 'invalid_grant')
        // The refusal too: a browser app must be able to read why it was refused.
        readableFromApp(config.serverMetadata().revocation_endpoint)
      },
    ],
  ])
}

summary()

function summary() {
  const count = (outcome) => results.filter((r) => r.outcome === outcome).length
  console.log(`\n${count('ok')} passed, ${count('FAIL')} failed, ${count('skip')} skipped`)
  for (const r of results.filter((r) => r.outcome === 'FAIL')) console.log(`  FAIL ${r.label}: ${r.error}`)
  process.exit(count('FAIL') || !results.length ? 1 : 0)
}
