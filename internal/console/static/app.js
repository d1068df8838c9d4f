// orgplane web console: a single-page app in plain ES module JavaScript.
//
// Rules this file keeps:
//  - It calls only the REST API (/v1/...) on this origin, plus, when OIDC is
//    configured, the issuer's discovery document and token endpoint.
//  - The bearer token lives in the `token` variable below and nowhere else:
//    never in web storage or cookies. Reloading signs out.
//  - The DOM is built with createElement and text nodes (see h()): data from
//    the API is never parsed as HTML. No inline scripts, styles or handlers
//    (the Content-Security-Policy forbids them).
//  - Controls that need the admin role are not rendered for members and
//    viewers; the API refuses them anyway.

// ---------------------------------------------------------------- state --

/** The bearer token: in memory only. */
let token = null;
/** /console/config.json: {oidc: {issuer, clientId}} or {}. */
let config = {};
/** The caller's organizations (GET /v1/organizations), as Resources. */
let orgs = [];
/** An API key to show once ({label, key}); dropped on navigation. */
let pendingKey = null;
/** Set to keep pendingKey across the next navigation (after creating an organization). */
let keepKey = false;
/** Render counter: a slow page must not overwrite a newer one. */
let renderSeq = 0;
/** The id of the element to focus after the next navigation, instead of the heading. */
let focusAfterNav = null;
let idSeq = 0;

const PAGES = [['overview', 'Overview'], ['accounts', 'Accounts'], ['members', 'Members'], ['license', 'License'], ['settings', 'Settings']];
const ROLES = ['member', 'admin', 'viewer'];
const LIMIT_LABELS = { accounts: 'Accounts', users: 'Users (seats)', deployments: 'Deployments', invitationsPerHour: 'Invitations per hour' };
const PKCE_KEY = 'orgplane-console-pkce';

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const orgPath = (name, rest = '') => `/v1/organizations/${enc(name)}${rest}`;

// ---------------------------------------------------------- DOM helpers --

/**
 * h builds an element. Props: class, for, on<event> (listener), aria-*,
 * data-* and role (attributes); anything else is set as a property. Null,
 * undefined and false props and children are skipped; strings become text
 * nodes, so data is never parsed as HTML.
 */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'for') node.htmlFor = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k.startsWith('aria-') || k.startsWith('data-') || k === 'role') node.setAttribute(k, v === true ? 'true' : String(v));
    else node[k] = v;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
}

const uid = (prefix) => `${prefix}-${++idSeq}`;

/** field is a labelled form control with optional help text. */
function field(id, label, control, help) {
  const helpId = help ? `${id}-help` : null;
  if (helpId) control.setAttribute('aria-describedby', helpId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, help && h('p', { id: helpId, class: 'help' }, help));
}

function select(props, values, current) {
  const s = h('select', props);
  for (const v of values) s.append(h('option', { value: v }, v));
  s.value = current;
  return s;
}

function th(text) { return h('th', { scope: 'col' }, text); }

function dl(props, rows) {
  const list = h('dl', props);
  for (const [term, value] of rows) {
    if (value === undefined || value === null || value === '') continue;
    list.append(h('dt', {}, term), h('dd', {}, value));
  }
  return list;
}

function fmtDate(s) {
  if (!s) return null;
  const d = new Date(s);
  return isNaN(d) ? s : h('time', { dateTime: s }, d.toLocaleString());
}

function roleText(role) {
  return `You are ${role === 'admin' ? 'an admin' : 'a ' + role} of this organization.`;
}

function readyText(status) {
  const c = ((status && status.conditions) || []).find((x) => x.type === 'Ready');
  if (!c) return 'Pending';
  if (c.status === 'True') return 'Ready';
  return `Not ready${c.reason ? ': ' + c.reason : ''}`;
}

function orgLabel(o) {
  const m = o.metadata;
  return m.displayName && m.displayName !== m.name ? `${m.displayName} (${m.name})` : m.name;
}

function setView(...nodes) {
  const view = $('view');
  view.replaceChildren();
  if (pendingKey) view.append(keyPanel());
  append(view, nodes);
}

// ------------------------------------------------------------- messages --

function clearMessages() { $('error').textContent = ''; $('notice').textContent = ''; }
function showError(msg) { $('notice').textContent = ''; $('error').textContent = msg; }
function showNotice(msg) { $('error').textContent = ''; $('notice').textContent = msg; }

/** run performs an action, showing the API's message when it fails; a 401 signs out. */
async function run(fn) {
  clearMessages();
  try {
    await fn();
  } catch (e) {
    handleError(e);
  }
}

function handleError(e) {
  if (e instanceof ApiError && e.status === 401 && token) {
    signOut(`You were signed out: ${e.message}`);
    return;
  }
  showError(e && e.message ? e.message : String(e));
}

/** onSubmit runs fn on submit, with the form's submit button disabled meanwhile. */
function onSubmit(form, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    await run(fn);
    if (button && button.isConnected) button.disabled = false;
  });
  return form;
}

// ------------------------------------------------------------------ API --

class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/**
 * api calls the REST API with the bearer token. Errors are the API's JSON
 * {code, message, details} (internal/rest/errors.go): the message is what
 * the person sees. 204 and empty bodies answer null.
 */
async function api(method, path, body) {
  const init = { method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `The API could not be reached (${e.message}).`);
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    let msg = data && typeof data.message === 'string' && data.message ? data.message : `The API answered ${res.status} ${res.statusText}`.trim();
    const details = data && data.details;
    if (details && details.requestId) msg += ` (request id ${details.requestId})`;
    throw new ApiError(res.status, msg, details);
  }
  return data;
}

// ------------------------------------------------------------- sign-in --

/** signIn checks t with GET /v1/organizations and, if accepted, keeps it. */
async function signIn(t) {
  token = (t || '').trim();
  if (!token) {
    token = null;
    showError('Paste a bearer token first.');
    return false;
  }
  try {
    orgs = (await api('GET', '/v1/organizations')).organizations || [];
  } catch (e) {
    token = null;
    showError(e.status === 401 ? `Sign-in failed: ${e.message}` : e.message);
    return false;
  }
  clearMessages();
  renderHeader();
  try { await loadInvitations(); } catch (e) { handleError(e); }
  await route({ nav: true });
  return true;
}

function signOut(message) {
  token = null;
  orgs = [];
  pendingKey = null;
  renderSignedOut();
  if (message) showError(message); else showNotice('Signed out.');
  const h1 = $('view').querySelector('h1');
  if (h1) h1.focus();
}

/** whoAmI is a name for the header, read (not verified: display only) from a JWT token. */
function whoAmI() {
  const parts = (token || '').split('.');
  if (parts.length !== 3) return '';
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
    const name = claims.email || claims.preferred_username || claims.name || claims.sub;
    return typeof name === 'string' ? name : '';
  } catch {
    return '';
  }
}

function renderSignedOut() {
  $('header-tools').replaceChildren();
  $('invitations').hidden = true;
  $('invitation-list').replaceChildren();
  $('nav').hidden = true;
  $('nav').replaceChildren();
  const ta = h('textarea', { id: 'token', rows: 5, required: true, autocomplete: 'off', spellcheck: false });
  const form = onSubmit(h('form', { id: 'signin', class: 'card' },
    field('token', 'Bearer token', ta,
      ['A token the cluster accepts, e.g. the output of ', h('code', {}, 'kubectl create token <service-account> -n <namespace>'),
        ', or open the sign-in link ', h('code', {}, 'make dev'), ' prints, which signs you in directly. ',
        'The token is kept in this page\'s memory only: reloading the page signs you out.']),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in'))), () => signIn(ta.value));
  let oidc = null;
  if (config.oidc && config.oidc.issuer) {
    let host = config.oidc.issuer;
    try { host = new URL(config.oidc.issuer).host; } catch { /* show the issuer as given */ }
    oidc = h('div', { class: 'card' },
      h('button', { type: 'button', id: 'oidc', onclick: () => run(startOidc) }, `Sign in with ${host}`),
      h('p', { class: 'help' }, 'Or sign in with a bearer token:'));
  }
  setView(h('h1', { tabIndex: -1 }, 'Sign in to orgplane'), oidc, form);
}

// ---------------------------------------------------- OIDC (PKCE, S256) --
//
// The authorization code flow for a public client. Across the redirect to
// the issuer and back, the PKCE code verifier and the state are the only
// things this page keeps in sessionStorage (under PKCE_KEY); finishOidc
// removes them before anything else, whatever the outcome. The token the
// issuer returns is kept in memory only, like any other.

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomString = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = () => location.origin + '/console/';

async function discover() {
  const issuer = config.oidc.issuer.replace(/\/+$/, '');
  const res = await fetch(issuer + '/.well-known/openid-configuration');
  if (!res.ok) throw new Error(`The identity provider's configuration could not be read (${res.status}).`);
  const d = await res.json();
  if (!d.authorization_endpoint || !d.token_endpoint) throw new Error('The identity provider names no authorization or token endpoint.');
  return d;
}

async function startOidc() {
  const d = await discover();
  const verifier = randomString(32);
  const state = randomString(16);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const url = new URL(d.authorization_endpoint);
  const q = { response_type: 'code', client_id: config.oidc.clientId, redirect_uri: redirectUri(), scope: 'openid email',
    state, code_challenge: b64url(new Uint8Array(digest)), code_challenge_method: 'S256' };
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  location.assign(url.toString());
}

/** finishOidc completes the flow on return (?code=&state= or ?error=). */
async function finishOidc(params) {
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY); // used once: gone before anything else happens
  history.replaceState(null, '', location.pathname + location.hash); // the code leaves the URL
  renderSignedOut();
  let pkce = null;
  try { pkce = JSON.parse(saved); } catch { pkce = null; }
  try {
    if (!pkce || !pkce.state || pkce.state !== params.get('state')) {
      throw new Error('Sign-in failed: the identity provider\'s answer does not match a sign-in started here. Sign in again.');
    }
    if (params.has('error')) throw new Error(`Sign-in failed: ${params.get('error_description') || params.get('error')}`);
    const d = await discover();
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri(),
        client_id: config.oidc.clientId, code_verifier: pkce.verifier }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || !body.id_token) {
      throw new Error(`Sign-in failed: ${body.error_description || body.error || 'the identity provider returned no ID token (' + res.status + ')'}`);
    }
    await signIn(body.id_token);
  } catch (e) {
    showError(e.message);
  }
}

// --------------------------------------------------------------- header --

function renderHeader() {
  const sel = h('select', { id: 'org-switcher' });
  sel.append(h('option', { value: '' }, orgs.length ? 'Choose an organization' : 'No organizations yet'));
  for (const o of orgs) sel.append(h('option', { value: o.metadata.name }, orgLabel(o)));
  sel.addEventListener('change', () => {
    // Focus stays on the switcher, so that arrow keys go on choosing.
    if (sel.value) { focusAfterNav = 'org-switcher'; location.hash = `#/org/${enc(sel.value)}/overview`; }
  });
  const who = whoAmI();
  $('header-tools').replaceChildren(
    h('div', { class: 'switcher' }, h('label', { for: 'org-switcher' }, 'Organization'), sel),
    h('a', { id: 'new-org', href: '#/new' }, 'New organization'),
    who ? h('span', { class: 'who' }, 'Signed in as ', h('strong', {}, who)) : '',
    h('button', { type: 'button', id: 'signout', class: 'secondary', onclick: () => signOut() }, 'Sign out'));
  syncSwitcher();
}

function syncSwitcher() {
  const sel = $('org-switcher');
  if (!sel) return;
  const r = parseRoute();
  sel.value = r.org && orgs.some((o) => o.metadata.name === r.org) ? r.org : '';
}

async function reloadOrgs() {
  orgs = (await api('GET', '/v1/organizations')).organizations || [];
  renderHeader();
}

/** loadInvitations lists the invitations waiting for the caller's answer. */
async function loadInvitations() {
  const invs = ((await api('GET', '/v1/identity/invitations')).invitations || []).filter((i) => !i.phase || i.phase === 'Pending');
  const list = $('invitation-list');
  list.replaceChildren();
  for (const inv of invs) {
    const textId = uid('invitation');
    const org = inv.organizationDisplayName || inv.organization; // the display name when the API gives it
    const where = inv.account ? `${org} (account ${inv.account})` : org;
    list.append(h('li', {},
      h('span', { id: textId }, `${where} invites you as ${inv.role}`, inv.invitedBy ? ` (from ${inv.invitedBy})` : '',
        inv.expiresAt ? ['; expires ', fmtDate(inv.expiresAt)] : '', '.'),
      h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'accept', 'aria-describedby': textId, onclick: () => run(() => answerInvitation(inv, 'accept')) }, 'Accept'),
        h('button', { type: 'button', class: 'secondary decline', 'aria-describedby': textId, onclick: () => run(() => answerInvitation(inv, 'decline')) }, 'Decline'))));
  }
  $('invitations').hidden = invs.length === 0;
}

async function answerInvitation(inv, verb) {
  await api('POST', `/v1/identity/invitations/${enc(inv.id)}/${verb}`);
  if (verb === 'accept') await until(reloadOrgs, () => orgs.some((o) => o.metadata.name === inv.organization));
  else await reloadOrgs();
  await loadInvitations();
  $('main').focus();
  const org = inv.organizationDisplayName || inv.organization;
  showNotice(verb === 'accept' ? `You joined ${org}.` : `You declined the invitation to ${org}.`);
}

// -------------------------------------------------------------- routing --

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  if (parts[0] === 'org' && parts[1]) return { org: parts[1], page: parts[2] || 'overview' };
  if (parts[0] === 'new') return { page: 'new' };
  if (parts[0] === '') return { page: 'home' };
  return { page: 'unknown' };
}

function renderNav(r) {
  const nav = $('nav');
  nav.replaceChildren();
  nav.hidden = !r.org;
  if (!r.org) return;
  const ul = h('ul');
  for (const [page, text] of PAGES) {
    ul.append(h('li', {}, h('a', { href: `#/org/${enc(r.org)}/${page}`, 'aria-current': page === r.page ? 'page' : null }, text)));
  }
  nav.append(ul);
}

/**
 * route renders the page of location.hash. opts.nav: a navigation (focus
 * the heading); opts.focus: the id of the element to focus afterwards;
 * otherwise the element focused before keeps focus if it is drawn again.
 */
async function route(opts = {}) {
  if (!token) return;
  const seq = ++renderSeq;
  const before = document.activeElement && document.activeElement.id;
  const r = parseRoute();
  syncSwitcher();
  renderNav(r);
  const view = $('view');
  view.setAttribute('aria-busy', 'true');
  if (opts.nav && !opts.focus) setView(h('p', {}, 'Loading…'));
  let nodes;
  try {
    if (r.page === 'home') nodes = await pageHome();
    else if (r.page === 'new') nodes = pageNew();
    else if (r.org && ORG_PAGES[r.page]) nodes = await pageOrg(r.org, r.page);
    else nodes = [h('h1', { tabIndex: -1 }, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your organizations'))];
  } catch (e) {
    if (seq !== renderSeq) return;
    handleError(e);
    if (!token) return;
    nodes = [h('h1', { tabIndex: -1 }, 'This page could not be shown'), h('p', {}, 'See the message above. ', h('a', { href: '#/' }, 'Back to your organizations'))];
  }
  if (seq !== renderSeq) return; // a newer navigation won
  view.removeAttribute('aria-busy');
  setView(nodes);
  const heading = view.querySelector('h1');
  document.title = heading ? `${heading.textContent} · orgplane` : 'orgplane console';
  let target = opts.focus ? $(opts.focus) : null;
  if (!target && opts.nav) target = pendingKey ? $('api-key') : view.querySelector('h1');
  if (!target && before) target = $(before);
  if (!target && (!document.activeElement || document.activeElement === document.body)) target = view.querySelector('h1');
  if (target) target.focus();
}

/** refresh draws the current page again (after an action), keeping any API key shown. */
const refresh = (focus) => route({ focus });

// ---------------------------------------------------------- API key box --

function keyPanel() {
  const { label, key } = pendingKey;
  const panel = h('div', { id: 'api-key', role: 'status', class: 'card key', tabIndex: -1 },
    h('h2', {}, `API key of ${label}`),
    h('p', {}, h('code', { id: 'api-key-value' }, key)),
    h('p', {}, h('strong', {}, 'Copy it now: it will not be shown again.')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'api-key-done', onclick: () => {
        pendingKey = null;
        panel.remove();
        $('main').focus();
      } }, 'Done'),
      navigator.clipboard ? h('button', { type: 'button', class: 'secondary', onclick: () => run(async () => {
        await navigator.clipboard.writeText(key);
        showNotice('API key copied.');
      }) }, 'Copy') : null));
  return panel;
}

function showKey(account) {
  const key = account && account.spec && account.spec.secretKey;
  if (!key) return false;
  pendingKey = { label: account.metadata.displayName || account.metadata.name, key };
  return true;
}

// ---------------------------------------------------------------- pages --

/** #/ : the caller's organizations. */
async function pageHome() {
  await reloadOrgs();
  if (!orgs.length) {
    return [h('h1', { tabIndex: -1 }, 'Welcome'),
      h('div', { class: 'card' }, h('p', {}, 'You are not a member of any organization yet. Accept an invitation above, or ',
        h('a', { href: '#/new' }, 'create an organization'), '.'))];
  }
  const ul = h('ul', { class: 'org-list' });
  for (const o of orgs) {
    const plan = o.status && o.status.plan;
    ul.append(h('li', { class: 'card' }, h('a', { href: `#/org/${enc(o.metadata.name)}/overview` }, orgLabel(o)),
      plan ? h('span', { class: 'help' }, ` Plan ${plan.type || 'free'}, ${plan.phase || 'Free'}`) : ''));
  }
  return [h('h1', { tabIndex: -1 }, 'Your organizations'), ul];
}

/** #/new : create an organization and its first account. */
function pageNew() {
  const name = h('input', { id: 'org-name', type: 'text', required: true, maxLength: 100, autocomplete: 'organization' });
  const account = h('input', { id: 'account-name', type: 'text', required: true, maxLength: 100, autocomplete: 'off' });
  const eula = h('input', { id: 'eula', type: 'checkbox', required: true });
  const form = onSubmit(h('form', { id: 'create-org', class: 'card' },
    field('org-name', 'Organization name', name, 'The display name people see; the organization\'s id is made from it.'),
    field('account-name', 'First account name', account, 'Accounts are projects: each gets a workspace namespace and an API key.'),
    h('div', { class: 'check' }, eula, h('label', { for: 'eula' }, 'I accept the end-user license agreement (EULA)')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create organization'))), async () => {
    if (!eula.checked) throw new Error('Accept the EULA to create an organization.');
    const res = await api('POST', '/v1/organizations',
      { organizationName: name.value.trim(), accountName: account.value.trim(), eulaAccepted: true, licenseType: 'free' });
    const org = res.organization.metadata.name;
    await reloadOrgs();
    const shown = showKey(res.account);
    keepKey = shown;
    location.hash = `#/org/${enc(org)}/overview`;
    showNotice(`Organization ${res.organization.metadata.displayName || org} created with account ${res.account.metadata.displayName || res.account.metadata.name}.` +
      (shown ? '' : ' Its API key is not ready yet: use "Rotate key" on the Accounts page to get one.'));
  });
  return [h('h1', { tabIndex: -1 }, 'New organization'), form];
}

const ORG_PAGES = { overview: pageOverview, accounts: pageAccounts, members: pageMembers, license: pageLicense, settings: pageSettings };

/** pageOrg reads the caller's role, then draws one of the organization's pages. */
async function pageOrg(name, page) {
  const ident = await api('GET', `/v1/identity/organizations/${enc(name)}`);
  const role = ident.organizationMembership.role;
  const listed = orgs.find((o) => o.metadata.name === name);
  const ctx = { name, role, admin: role === 'admin', ident: ident.organization, org: listed };
  const title = (listed && listed.metadata.displayName) || ident.organization.name || name;
  const body = await ORG_PAGES[page](ctx);
  const pageName = PAGES.find((p) => p[0] === page)[1];
  return [h('div', { class: 'page-head' }, h('h1', { tabIndex: -1 }, `${pageName}: ${title}`), h('p', { id: 'role', class: 'role-text' }, roleText(role))), body];
}

/** Overview: plan, phase, dates, usage against limits, seats, workspace quota. */
async function pageOverview(ctx) {
  const [lic, one, accts] = await Promise.all([api('GET', orgPath(ctx.name, '/license')), api('GET', orgPath(ctx.name)),
    api('GET', orgPath(ctx.name, '/accounts'))]);
  const seats = one && one.organization && one.organization.status && one.organization.status.seats;
  const phaseHelp = {
    Grace: 'The license has expired: the plan is kept until the grace period ends. Apply a renewed license key.',
    Restricted: 'The organization is restricted: nothing new may be created until a valid license is applied.',
  }[lic.phase];
  return [
    h('section', { class: 'card', 'aria-labelledby': 'plan-title' },
      h('h2', { id: 'plan-title' }, 'Plan'),
      dl({}, [
        ['Plan', h('span', { id: 'plan' }, lic.plan || 'free')],
        ['Phase', h('span', { id: 'phase' }, lic.phase || 'Free')],
        ['Expires', fmtDate(lic.expiresAt)],
        ['Grace ends', fmtDate(lic.graceEndsAt)],
        ['Restriction ends', fmtDate(lic.restrictedEndsAt)],
        ['Entitlements', lic.entitlements && lic.entitlements.length ? lic.entitlements.join(', ') : null],
      ]),
      phaseHelp ? h('p', { class: 'warning' }, h('strong', {}, 'Note: '), phaseHelp) : null),
    h('section', { class: 'card', 'aria-labelledby': 'usage-title' },
      h('h2', { id: 'usage-title' }, 'Usage'),
      usageTable(lic.limits, lic.usage),
      seats ? h('p', { id: 'seats' }, `Seats: ${seats.used} of ${seats.limit} used by members and pending invitations (${seats.pending} pending).`) : null),
    quotaCard(one && one.organization && one.organization.status, (accts && accts.accounts) || []),
  ];
}

/** quotaCard shows the plan's guardrails in use: the organization-wide total and each workspace's quota. */
function quotaCard(status, accounts) {
  const total = status && status.quota;
  const perWorkspace = accounts.filter((a) => a.status && a.status.quota && a.status.quota.summary);
  const parts = [h('h2', { id: 'quota-title' }, 'Workspace quota')];
  if (!total && !perWorkspace.length) {
    parts.push(h('p', {}, 'The plan sets no quota on the workspaces.'));
  }
  if (total) {
    const body = h('tbody');
    for (const [res, hard] of Object.entries(total.hard || {})) {
      body.append(h('tr', {}, h('th', { scope: 'row' }, res), h('td', { class: 'num' }, (total.used || {})[res] || '0'), h('td', { class: 'num' }, hard)));
    }
    parts.push(h('table', { id: 'quota-total' }, h('caption', {}, 'All workspaces together, against the organization\'s total'),
      h('thead', {}, h('tr', {}, th('Resource'), th('Used'), th('Total'))), body));
  }
  if (perWorkspace.length) {
    parts.push(h('h3', {}, 'Each workspace'), h('ul', { class: 'quota-list' },
      ...perWorkspace.map((a) => h('li', {}, h('strong', {}, a.metadata.displayName || a.metadata.name), ': ', a.status.quota.summary))));
  }
  return h('section', { id: 'quota', class: 'card', 'aria-labelledby': 'quota-title' }, ...parts);
}

/** usageTable shows each limit against its usage, with a meter. */
function usageTable(limits, usage) {
  limits = limits || {};
  usage = usage || {};
  const keys = [...new Set([...Object.keys(limits), ...Object.keys(usage)])];
  const body = h('tbody');
  for (const k of keys) {
    const name = LIMIT_LABELS[k] || k;
    const used = usage[k];
    const limit = limits[k];
    let bar = '—';
    if (typeof used === 'number' && typeof limit === 'number' && limit > 0) {
      const text = `${used} of ${limit}`;
      bar = h('span', { class: 'bar' },
        h('meter', { min: 0, max: limit, high: Math.max(limit * 0.8, 0), optimum: 0, value: Math.min(used, limit), 'aria-label': `${name}: ${text}` }, text),
        used > limit ? h('strong', {}, ' Over the limit') : used === limit ? h('span', {}, ' At the limit') : '');
    }
    body.append(h('tr', {}, h('th', { scope: 'row' }, name),
      h('td', { class: 'num' }, typeof used === 'number' ? String(used) : '—'),
      h('td', { class: 'num' }, typeof limit === 'number' ? String(limit) : '—'), h('td', {}, bar)));
  }
  return h('table', { id: 'usage' }, h('caption', {}, 'Usage against the plan\'s limits'),
    h('thead', {}, h('tr', {}, th('Resource'), th('Used'), th('Limit'), th('Share of limit'))), body);
}

/** Accounts: list; admins create, rename, rotate keys and delete. */
async function pageAccounts(ctx) {
  const accounts = (await api('GET', orgPath(ctx.name, '/accounts'))).accounts || [];
  const body = h('tbody');
  for (const a of accounts) {
    const nameId = uid('account');
    const cells = [
      h('td', { id: nameId }, a.metadata.displayName || a.metadata.name),
      h('td', {}, h('code', {}, a.metadata.name)),
      h('td', {}, readyText(a.status)),
      h('td', {}, a.status && a.status.namespace ? h('code', {}, a.status.namespace) : '—'),
      h('td', {}, a.status && a.status.quota && a.status.quota.summary ? a.status.quota.summary : '—'),
    ];
    if (ctx.admin) cells.push(accountActions(ctx, a, nameId));
    body.append(h('tr', { 'data-name': a.metadata.name }, cells));
  }
  if (!accounts.length) body.append(h('tr', {}, h('td', { colSpan: ctx.admin ? 6 : 5 }, 'No accounts yet.')));
  const table = h('table', { id: 'accounts' }, h('caption', {}, 'Accounts'),
    h('thead', {}, h('tr', {}, th('Display name'), th('Name'), th('Ready'), th('Workspace namespace'), th('Quota used'), ctx.admin ? th('Actions') : null)), body);
  const out = [h('div', { class: 'card table-wrap' }, table)];
  if (ctx.admin) out.push(createAccountForm(ctx));
  return out;
}

function accountActions(ctx, a, nameId) {
  const id = a.metadata.name;
  const path = orgPath(ctx.name, `/accounts/${enc(id)}`);
  const cell = h('td', { class: 'actions' });
  const restore = (focusId) => { cell.replaceChildren(...buttons); if (focusId) $(focusId).focus(); };
  const buttons = [
    h('button', { type: 'button', id: `rename-${id}`, class: 'secondary rename', 'aria-describedby': nameId, onclick: () => {
      const inputId = `rename-input-${id}`;
      const input = h('input', { id: inputId, type: 'text', required: true, maxLength: 100, value: a.metadata.displayName || '' });
      const form = onSubmit(h('form', { class: 'inline-form' },
        h('label', { for: inputId }, `New display name of ${id}`), input,
        h('button', { type: 'submit' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => restore(`rename-${id}`) }, 'Cancel')), async () => {
        await api('PATCH', path, { displayName: input.value.trim() });
        await refresh(`rename-${id}`);
        showNotice(`Account ${id} renamed to ${input.value.trim()}.`);
      });
      cell.replaceChildren(form);
      input.focus();
    } }, 'Rename'),
    h('button', { type: 'button', id: `rotate-${id}`, class: 'secondary rotate', 'aria-describedby': nameId, onclick: () => run(async () => {
      const acc = await api('POST', `${path}/rotate-key`);
      const shown = showKey(acc);
      await refresh(shown ? 'api-key' : `rotate-${id}`);
      showNotice(shown ? `Key of ${id} rotated.` : `Key of ${id} rotated; the new key is not ready yet: rotate again in a moment.`);
    }) }, 'Rotate key'),
    h('button', { type: 'button', id: `delete-${id}`, class: 'danger delete', 'aria-describedby': nameId, onclick: () => {
      const textId = uid('confirm');
      cell.replaceChildren(h('span', { id: textId }, `Delete account ${id}, its workspace and everything in it?`),
        h('button', { type: 'button', id: `confirm-delete-${id}`, class: 'danger confirm', 'aria-describedby': textId, onclick: () => run(async () => {
          await api('DELETE', path);
          await refresh();
          showNotice(`Account ${id} deleted.`);
        }) }, 'Yes, delete'),
        h('button', { type: 'button', class: 'secondary', onclick: () => restore(`delete-${id}`) }, 'Cancel'));
      $(`confirm-delete-${id}`).focus();
    } }, 'Delete'),
  ];
  cell.append(...buttons);
  return cell;
}

function createAccountForm(ctx) {
  const display = h('input', { id: 'account-display-name', type: 'text', required: true, maxLength: 100, autocomplete: 'off' });
  const slug = h('input', { id: 'account-slug', type: 'text', autocomplete: 'off', pattern: '[a-z0-9]([-a-z0-9]*[a-z0-9])?' });
  return onSubmit(h('form', { id: 'create-account', class: 'card' },
    h('h2', {}, 'New account'),
    field('account-display-name', 'Display name', display),
    field('account-slug', 'Name (optional)', slug, 'Lowercase letters, digits and "-"; made from the display name when empty.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create account'))), async () => {
    const body = { displayName: display.value.trim() };
    if (slug.value.trim()) body.name = slug.value.trim();
    const acc = await api('POST', orgPath(ctx.name, '/accounts'), body);
    const shown = showKey(acc);
    await refresh(shown ? 'api-key' : 'account-display-name');
    showNotice(`Account ${acc.metadata.name} created.` + (shown ? '' : ' Its API key is not ready yet: use "Rotate key" to get one.'));
  });
}

/** Members: members and invitations; admins change roles, add and remove; admins and members invite. */
async function pageMembers(ctx) {
  const canInvite = ctx.role === 'admin' || ctx.role === 'member';
  const [m, inv] = await Promise.all([
    api('GET', orgPath(ctx.name, '/members')),
    canInvite ? api('GET', orgPath(ctx.name, '/invitations')) : null,
  ]);
  const members = (m && m.members) || [];
  const body = h('tbody');
  for (const member of members) body.append(memberRow(ctx, member));
  const out = [h('div', { class: 'card table-wrap' }, h('table', { id: 'members' },
    h('caption', {}, `Members (${members.length})`),
    h('thead', {}, h('tr', {}, th('Name'), th('E-mail'), th('Kind'), th('Role'), ctx.admin ? th('Actions') : null)), body))];
  if (ctx.admin) out.push(addMemberForm(ctx));
  if (inv) out.push(invitationsSection(ctx, inv.invitations || []));
  if (canInvite) out.push(inviteForm(ctx));
  return out;
}

function memberRow(ctx, member) {
  const nameId = uid('member');
  const cells = [h('td', { id: nameId }, member.name), h('td', {}, member.email || '—'), h('td', {}, member.kind)];
  if (!ctx.admin) return h('tr', { 'data-name': member.name }, cells, h('td', {}, member.role));
  const path = orgPath(ctx.name, `/members/${enc(member.id)}`);
  const roleSelect = select({ id: `role-${member.id}`, class: 'role', 'aria-label': `Role of ${member.name}` }, ROLES, member.role);
  const actions = h('td', { class: 'actions' });
  const restore = () => { actions.replaceChildren(...buttons); $(`remove-${member.id}`).focus(); };
  const buttons = [
    h('button', { type: 'button', id: `save-role-${member.id}`, class: 'save', 'aria-describedby': nameId, onclick: () => run(async () => {
      await api('PUT', path, { role: roleSelect.value });
      await refresh();
      showNotice(`${member.name} is now ${roleSelect.value === 'admin' ? 'an admin' : 'a ' + roleSelect.value}.`);
    }) }, 'Save'),
    h('button', { type: 'button', id: `remove-${member.id}`, class: 'danger remove', 'aria-describedby': nameId, onclick: () => {
      // Inline confirmation: removing someone takes their access at once.
      const textId = uid('confirm');
      actions.replaceChildren(h('span', { id: textId }, `Remove ${member.name} from the organization?`),
        h('button', { type: 'button', id: `confirm-remove-${member.id}`, class: 'danger confirm', 'aria-describedby': textId, onclick: () => run(async () => {
          await api('DELETE', path);
          await refresh();
          showNotice(`${member.name} was removed from the organization.`);
        }) }, 'Yes, remove'),
        h('button', { type: 'button', class: 'secondary', onclick: restore }, 'Cancel'));
      $(`confirm-remove-${member.id}`).focus();
    } }, 'Remove'),
  ];
  actions.append(...buttons);
  cells.push(h('td', {}, roleSelect), actions);
  return h('tr', { 'data-name': member.name }, cells);
}

function addMemberForm(ctx) {
  const email = h('input', { id: 'member-email', type: 'email', required: true, maxLength: 254, autocomplete: 'off' });
  const role = select({ id: 'member-role' }, ROLES, 'member');
  return onSubmit(h('form', { id: 'add-member', class: 'card' },
    h('h2', {}, 'Add a member'),
    h('p', { class: 'help' }, 'Adds someone directly, without an invitation to accept.'),
    field('member-email', 'E-mail', email), field('member-role', 'Role', role),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add member'))), async () => {
    const res = await api('POST', orgPath(ctx.name, '/members'), { email: email.value.trim(), role: role.value });
    await refresh('member-email');
    showNotice(`${email.value.trim()} added as ${(res && res.role) || role.value}.`);
  });
}

function invitationsSection(ctx, invitations) {
  const order = (i) => (i.phase === 'Pending' ? 0 : 1);
  const body = h('tbody');
  for (const inv of [...invitations].sort((a, b) => order(a) - order(b))) {
    const emailId = uid('inv-email');
    body.append(h('tr', { 'data-name': inv.email },
      h('td', { id: emailId }, inv.email), h('td', {}, inv.account ? `${inv.role} (account ${inv.account})` : inv.role),
      h('td', {}, inv.phase || 'Pending'), h('td', {}, fmtDate(inv.expiresAt) || '—'), h('td', {}, inv.invitedBy || '—'),
      ctx.admin ? h('td', { class: 'actions' }, inv.phase === 'Pending'
        ? h('button', { type: 'button', id: `revoke-${inv.id}`, class: 'danger revoke', 'aria-describedby': emailId, onclick: () => run(async () => {
          await api('DELETE', orgPath(ctx.name, `/invitations/${enc(inv.id)}`));
          await untilInvitations(ctx, (list) => !list.some((i) => i.id === inv.id && i.phase === 'Pending'));
          await refresh();
          showNotice(`Invitation to ${inv.email} revoked.`);
        }) }, 'Revoke') : '') : null));
  }
  if (!invitations.length) body.append(h('tr', {}, h('td', { colSpan: ctx.admin ? 6 : 5 }, 'No invitations.')));
  return h('section', { class: 'card table-wrap', 'aria-labelledby': 'org-invitations-title' },
    h('h2', { id: 'org-invitations-title' }, 'Invitations'),
    h('table', { id: 'org-invitations' }, h('caption', { class: 'visually-hidden' }, 'Invitations'),
      h('thead', {}, h('tr', {}, th('E-mail'), th('Role'), th('Status'), th('Expires'), th('Invited by'), ctx.admin ? th('Actions') : null)), body));
}

/** untilInvitations re-reads the organization's invitations until done(list) holds (the API reads a cache). */
function untilInvitations(ctx, done) {
  return until(async () => (await api('GET', orgPath(ctx.name, '/invitations'))).invitations || [], done);
}

function inviteForm(ctx) {
  const email = h('input', { id: 'invite-email', type: 'email', required: true, maxLength: 254, autocomplete: 'off' });
  // The API refuses a role above the inviter's own: offer only those.
  const role = select({ id: 'invite-role' }, ctx.admin ? ROLES : ['member', 'viewer'], 'member');
  return onSubmit(h('form', { id: 'invite', class: 'card' },
    h('h2', {}, 'Invite someone'),
    h('p', { class: 'help' }, 'Only the person who signs in with this e-mail address can accept. A pending invitation takes a seat.'),
    field('invite-email', 'E-mail', email), field('invite-role', 'Role', role),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send invitation'))), async () => {
    const inv = await api('POST', orgPath(ctx.name, '/invitations'), { email: email.value.trim(), role: role.value });
    await untilInvitations(ctx, (list) => list.some((i) => i.id === inv.id));
    await refresh('invite-email');
    showNotice(`Invitation sent to ${inv.email}` + (inv.expiresAt ? `; it expires ${new Date(inv.expiresAt).toLocaleString()}.` : '.'));
  });
}

/**
 * until calls read every half second until done(result) holds, at most ~10 s,
 * and returns the last result: the API answers from the manager's cache,
 * which shows a write a moment after it is made.
 */
async function until(read, done) {
  let now;
  for (let i = 0; i < 20; i++) {
    now = await read();
    if (done(now)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return now;
}

/** untilLicenseChanges re-reads the license until the controller has applied the new one. */
function untilLicenseChanges(name, before) {
  const id = (l) => (l.license ? `${l.license.id}/${l.license.licenseId}/${l.license.phase}` : '') + `/${l.plan}/${l.phase}`;
  return until(() => api('GET', orgPath(name, '/license')),
    (now) => id(now) !== id(before) && (!now.license || now.license.licenseId));
}

function limitsText(limits) {
  if (!limits) return null;
  return Object.entries(limits).map(([k, v]) => `${LIMIT_LABELS[k] || k}: ${v}`).join(', ');
}

/** License: the license's claims; admins apply a license key. */
async function pageLicense(ctx) {
  const lic = await api('GET', orgPath(ctx.name, '/license'));
  const l = lic.license;
  const claims = l
    ? dl({ id: 'license-claims' }, [['License ID', l.licenseId], ['Type', l.type], ['Licensee', l.licensee], ['Phase', l.phase],
      ['Limits', limitsText(l.limits)], ['Expires', fmtDate(l.expiresAt)], ['Grace ends', fmtDate(l.graceEndsAt)]])
    : dl({ id: 'license-claims' }, [['Plan', lic.plan || 'free'], ['Phase', lic.phase || 'Free'], ['Limits', limitsText(lic.limits)]]);
  const out = [h('section', { class: 'card', 'aria-labelledby': 'claims-title' },
    h('h2', { id: 'claims-title' }, l ? 'License in force' : 'No license'),
    l ? null : h('p', {}, 'No license is applied: the organization is on the free plan.'),
    claims)];
  if (ctx.admin) {
    const key = h('textarea', { id: 'license-key', rows: 6, required: true, maxLength: 16384, spellcheck: false, autocomplete: 'off' });
    out.push(onSubmit(h('form', { id: 'apply-license', class: 'card' },
      h('h2', {}, 'Apply a license'),
      field('license-key', 'License key', key, 'The signed key you received. It replaces the license in force.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply license'))), async () => {
      const before = await api('GET', orgPath(ctx.name, '/license'));
      await api('PUT', orgPath(ctx.name, '/license'), { licenseKey: key.value.trim() });
      const now = await untilLicenseChanges(ctx.name, before);
      await refresh('license-claims');
      showNotice(`License applied: plan ${now.plan || 'free'}, phase ${now.phase || 'Free'}.`);
    }));
  }
  return out;
}

/** Settings: details for everyone; admins rename and delete. */
async function pageSettings(ctx) {
  const org = (await api('GET', orgPath(ctx.name))).organization;
  const m = org.metadata;
  const st = org.status || {};
  const out = [h('section', { class: 'card', 'aria-labelledby': 'details-title' },
    h('h2', { id: 'details-title' }, 'Details'),
    dl({ id: 'org-details' }, [['Display name', m.displayName], ['Name', h('code', {}, m.name)], ['ID', h('code', {}, m.id)],
      ['Description', m.description], ['Namespace', st.namespace ? h('code', {}, st.namespace) : null], ['Status', readyText(st)],
      ['Plan', st.plan ? `${st.plan.type || 'free'} (${st.plan.phase || 'Free'})` : null],
      ['Created', fmtDate(ctx.ident && ctx.ident.createdAt)],
      ['Created by', ctx.ident && ctx.ident.createdBy && ctx.ident.createdBy.userId]]))];
  if (!ctx.admin) return out;

  const display = h('input', { id: 'org-display-name', type: 'text', required: true, maxLength: 100, value: m.displayName || '' });
  out.push(onSubmit(h('form', { id: 'rename-org', class: 'card' },
    h('h2', {}, 'Rename'),
    field('org-display-name', 'Display name', display),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Rename organization'))), async () => {
    await api('PATCH', orgPath(ctx.name, '/metadata'), { name: display.value.trim() });
    await reloadOrgs();
    await refresh('org-display-name');
    showNotice(`Organization renamed to ${display.value.trim()}.`);
  }));

  const confirm = h('input', { id: 'confirm-delete', type: 'text', autocomplete: 'off', spellcheck: false });
  // The button stays enabled (a disabled one cannot be focused or explain
  // itself): submitting without the name typed says what to type.
  const del = h('button', { type: 'submit', class: 'danger' }, 'Delete organization');
  out.push(onSubmit(h('form', { id: 'delete-org', class: 'card danger-zone' },
    h('h2', {}, 'Delete organization'),
    h('p', {}, 'Deleting the organization deletes its accounts, their workspaces and everything in them. It cannot be undone.'),
    field('confirm-delete', `Type the organization's name, ${ctx.name}, to confirm`, confirm),
    h('div', { class: 'actions' }, del)), async () => {
    if (confirm.value.trim() !== ctx.name) {
      confirm.focus();
      throw new Error(`Nothing was deleted: type the organization's name, ${ctx.name}, to confirm.`);
    }
    await api('DELETE', orgPath(ctx.name));
    await reloadOrgs();
    location.hash = '#/';
    showNotice(`Organization ${ctx.name} deleted.`);
  }));
  return out;
}

// ----------------------------------------------------------------- boot --

async function boot() {
  $('skip').addEventListener('click', (ev) => {
    ev.preventDefault(); // the hash is the route: focus main instead of following #main
    $('main').focus();
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#token=')) { // a sign-in link opened in this tab
      signInFromHash();
      return;
    }
    if (keepKey) keepKey = false; else pendingKey = null;
    const focus = focusAfterNav;
    focusAfterNav = null;
    route({ nav: true, focus });
  });
  try {
    const res = await fetch('/console/config.json', { cache: 'no-store' });
    config = res.ok ? await res.json() : {};
  } catch {
    config = {};
  }
  const params = new URLSearchParams(location.search);
  if (location.hash.startsWith('#token=')) {
    await signInFromHash();
  } else if (config.oidc && params.has('state') && (params.has('code') || params.has('error'))) {
    await finishOidc(params);
  } else {
    renderSignedOut();
  }
}

/** signInFromHash signs in with the token of a #token=... link, which leaves the URL and history at once. */
async function signInFromHash() {
  let t = location.hash.slice('#token='.length);
  try { t = decodeURIComponent(t); } catch { /* use it as given */ }
  history.replaceState(null, '', location.pathname + location.search);
  token = null;
  pendingKey = null;
  if (!(await signIn(t))) renderSignedOutKeepingError();
}

/** renderSignedOutKeepingError draws the sign-in page without losing the error shown. */
function renderSignedOutKeepingError() {
  const msg = $('error').textContent;
  renderSignedOut();
  if (msg) showError(msg);
}

boot();
