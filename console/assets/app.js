// The evidence console (docs/console.md): a page of the local console proxy. It calls
// the gateway's API through the proxy (same origin, the session cookie), which signs
// every change of custody with the member's key; uploads and downloads run in the
// proxy, whose progress the page follows. Everything shown is built with DOM calls and
// textContent: nothing the gateway sends is ever parsed as HTML, except the court
// report the in-browser verifier writes, shown in a sandboxed frame.
'use strict';

const $ = (id) => document.getElementById(id);
const view = $('view');
const state = { me: null, session: null, verifierLoaded: null };

// h builds an element: h('a', {href: '#'}, 'text', child...).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// ApiError is a refused request: the problem's detail says, in plain words, why.
class ApiError extends Error {
  constructor(problem, status) {
    super(plainDetail(problem) || problem.title || ('HTTP ' + status));
    this.problem = problem;
    this.status = status;
  }
  kind() {
    const t = this.problem.type || '';
    return t.slice(t.indexOf('#') + 1);
  }
}

// What each action of the policies is, in words, for a denial.
const actionNames = {
  'view': 'see this exhibit', 'share': 'share this exhibit', 'revoke': 'revoke this grant', 'accept': 'accept this grant',
  'download': 'download this exhibit', 'bundle': 'export the court bundle of this exhibit', 'hold': 'put this exhibit under legal hold',
  'release': 'release the legal hold', 'dispose': 'dispose of this exhibit', 'register': 'register evidence',
  'file-request': 'file this request', 'view-request': 'see this request', 'acknowledge-request': 'acknowledge this request',
  'respond-request': 'answer this request', 'withdraw-request': 'withdraw this request', 'bundle-request': 'export the bundle of this request',
};

// What each guard of the shipped policies (policy/guards.cedar) requires, in words.
const guardWords = {
  'forbid-revoked-grant': 'the grant was revoked',
  'forbid-expired-grant': 'the grant has expired',
  'forbid-repeated-accept': 'the grant is already accepted',
  'forbid-download-not-accepted': 'your agency must accept the grant before downloading',
  'forbid-download-view-only': 'the grant lets your agency view the record only, not download the content',
  'forbid-download-limit': 'the downloads the grant allows are used up',
  'forbid-download-instrument': 'the legal instrument of the grant allows no download (a preservation order)',
  'forbid-emergency-without-procedure': 'this legal instrument has no emergency procedure: file the request without "Emergency"',
  'forbid-emergency-deadline-too-late': 'an emergency request\'s deadline must fall within the instrument\'s emergency time',
};

// plainDetail is the problem's detail as the member reads it. A policy denial
// ("X is not permitted by policy P: reason") names the policies that decided; the
// member is told what is missing instead, never a policy id.
function plainDetail(problem) {
  const detail = problem.detail || '';
  const type = problem.type || '';
  if (!type.endsWith('#forbidden')) return detail;
  const m = detail.match(/^([a-z-]+) is not permitted(?: by policy ([^:]+))?(?:: (.*))?$/s);
  if (!m) return detail;
  const what = 'You may not ' + (actionNames[m[1]] || m[1].replace(/-/g, ' ')) + ': ';
  if (!m[2]) return what + 'no rule of this gateway gives your agency and role that right.';
  if (m[3]) return what + m[3].replace(/: give it with --authority$/, '') + '.';
  const words = m[2].split(/,\s*/).map((id) => guardWords[id]).filter((w) => w);
  return what + (words.length ? words.join('; ') : 'a rule of this gateway forbids it') + '.';
}

async function call(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (e) {
    throw new ApiError({ detail: 'The console is not answering: it may have been stopped. Start it again with "evidencegw console".' }, 0);
  }
  return answer(resp);
}

async function answer(resp) {
  const type = resp.headers.get('Content-Type') || '';
  if (!resp.ok) {
    let problem = { title: resp.statusText, status: resp.status };
    if (type.includes('json')) {
      try { problem = await resp.json(); } catch (e) { /* keep the status */ }
    }
    throw new ApiError(problem, resp.status);
  }
  return type.includes('json') ? resp.json() : resp;
}

// bytesOf returns the body of a successful answer as bytes (a bundle, a trust root:
// verified as sent, never re-encoded).
async function bytesOf(resp) {
  if (!resp.ok) await answer(resp); // throws the problem
  return new Uint8Array(await resp.arrayBuffer());
}

function showAlert(text, ok) {
  const a = $('alert');
  a.textContent = text;
  a.className = ok ? 'ok' : '';
  a.hidden = !text;
}

function formatBytes(n) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

function formatTime(t) {
  if (!t) return '–';
  return t.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

function party(p) {
  if (!p) return '–';
  let s = p.agency + ' (' + p.jurisdiction + ')';
  if (p.person) s += ', ' + p.person;
  if (p.role) s += ', ' + p.role;
  return s;
}

function rememberExhibit(id) {
  const seen = JSON.parse(sessionStorage.getItem('exhibits') || '[]').filter((x) => x !== id);
  seen.unshift(id);
  sessionStorage.setItem('exhibits', JSON.stringify(seen.slice(0, 20)));
}

function recentExhibits() {
  return JSON.parse(sessionStorage.getItem('exhibits') || '[]');
}

function exhibitLink(id) {
  return h('a', { href: '#/evidence/' + id, class: 'mono' }, id);
}

// ---- routing ----

const routes = [
  [/^#\/evidence\/(ev-[a-z2-7]{26})$/, showEvidence],
  [/^#\/cases\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/, showCase],
  [/^#\/upload$/, showUpload],
  [/^#\/requests$/, showRequests],
  [/^#\/requests\/new$/, showNewRequest],
  [/^#\/requests\/(rq-[a-z2-7]{26})$/, showRequest],
  [/^#\/cases$/, showCases],
  [/^#\/inbox$/, showInbox],
];

async function route() {
  const hash = location.hash || '#/inbox';
  showAlert('');
  for (const a of document.querySelectorAll('nav a')) {
    a.toggleAttribute('aria-current', hash.startsWith(a.getAttribute('href')));
    if (a.hasAttribute('aria-current')) a.setAttribute('aria-current', 'page');
  }
  for (const [re, fn] of routes) {
    const m = hash.match(re);
    if (m) {
      view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
      view.dataset.page = fn.name;
      try {
        await fn(...m.slice(1));
      } catch (e) {
        view.replaceChildren(h('h2', {}, 'Could not show this page'), h('p', {}, e.message));
      }
      view.focus();
      window.dispatchEvent(new Event('routed'));
      return;
    }
  }
  view.replaceChildren(h('h2', {}, 'No such page'), h('p', {}, 'Use the menu above, or open an exhibit by its id.'));
}

// ---- listings: pages with a "More" button ----

// paged shows the first page of a listing as a table whose rows row() builds; while
// the page has a "next" cursor, a "More" button fetches the next page of the same
// listing (nextPath(cursor)) and appends its rows (docs/api.md, "Listings").
function paged(id, headers, page, key, nextPath, row) {
  const items = (page && page[key]) || [];
  if (!items.length) return h('p', { class: 'muted', id }, 'None.');
  const body = h('tbody', {}, items.map(row));
  const wrap = h('div', { id, class: 'listing' }, h('table', {}, h('thead', {}, h('tr', {}, headers.map((c) => h('th', {}, c)))), body));
  let next = page.next;
  const more = h('button', { class: 'secondary small more', 'data-more': id }, 'More');
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const p = await call('GET', nextPath(next));
      body.append(...(p[key] || []).map(row));
      next = p.next;
      more.hidden = !next;
    } catch (e) {
      showAlert(e.message);
    } finally {
      more.disabled = false;
    }
  });
  more.hidden = !next;
  wrap.append(more);
  return wrap;
}

// pageSize is the rows a listing asks for at once: 50, or the browser session's
// "pageSize" (1 to 500; docs/console.md).
function pageSize() {
  const n = Number(sessionStorage.getItem('pageSize'));
  return Number.isInteger(n) && n >= 1 && n <= 500 ? n : 50;
}

// listingPath is a listing's route with its filter, the page size and a cursor.
function listingPath(path, filter, cursor) {
  const q = new URLSearchParams(filter);
  q.set('limit', String(pageSize()));
  if (cursor) q.set('cursor', cursor);
  return path + '?' + q;
}

function caseLink(c) {
  return c ? h('a', { href: '#/cases/' + c }, c) : '–';
}

function requestLink(id) {
  return h('a', { href: '#/requests/' + id, class: 'mono' }, id);
}

// ---- inbox ----

async function showInbox() {
  const inbox = await call('GET', '/v1/inbox?limit=' + pageSize());
  const recent = recentExhibits();
  view.replaceChildren(
    h('h2', {}, 'Inbox of ' + inbox.agency),
    h('h3', {}, 'Requests addressed to your agency'),
    requestListing('inbox-requests', inbox.requests, { box: 'inbox', state: 'open-any' }),
    h('h3', {}, 'Waiting for your acceptance'),
    grantListing('inbox-awaiting', inbox.awaiting_acceptance, { box: 'inbox', state: 'awaiting' }, true),
    h('h3', {}, 'Active grants to your agency'),
    grantListing('inbox-active', inbox.active_grants, { box: 'inbox', state: 'accepted' }, false),
    h('h3', {}, 'Deadlines of the open requests you take part in'),
    requestListing('inbox-deadlines', inbox.deadlines, { state: 'open-any' }),
    h('h3', {}, 'Opened in this session'),
    recent.length ? h('ul', {}, recent.map((id) => h('li', {}, exhibitLink(id)))) : h('p', { class: 'muted' }, 'None yet.'));
}

function grantListing(id, page, filter, acceptable) {
  return paged(id, ['Exhibit', 'Case', 'From', 'Legal basis', 'Expires', 'Downloads', ''], page, 'grants',
    (cursor) => listingPath('/v1/grants', filter, cursor),
    (g) => h('tr', { 'data-grant': g.grant_id, 'data-evidence': g.evidence_id },
      h('td', {}, exhibitLink(g.evidence_id)), h('td', {}, caseLink(g.case_id)),
      h('td', {}, g.owner), h('td', {}, g.legal_basis, g.request_id ? [' (', requestLink(g.request_id), ')'] : ''),
      h('td', {}, formatTime(g.expires)),
      h('td', {}, g.view_only ? 'view only' : (g.max_downloads ? g.downloads + ' of ' + g.max_downloads : String(g.downloads))),
      h('td', {}, acceptable ? h('button', { class: 'small accept', onclick: () => openAccept(g.evidence_id, g) }, 'Accept…')
        : h('a', { href: '#/evidence/' + g.evidence_id }, 'Open'))));
}

function requestListing(id, page, filter) {
  return paged(id, ['Request', 'From', 'To', 'Instrument', 'Deadline', 'State'], page, 'requests',
    (cursor) => listingPath('/v1/requests', filter, cursor), requestRow);
}

function requestRow(r) {
  return h('tr', { 'data-request': r.request_id, 'data-state': r.state },
    h('td', {}, requestLink(r.request_id), r.emergency ? h('span', { class: 'badge bad' }, 'emergency') : ''),
    h('td', {}, r.from), h('td', {}, r.to),
    h('td', {}, (r.instrument_name || r.instrument) + (r.reference ? ', ' + r.reference : '')),
    h('td', {}, formatTime(r.deadline), r.overdue ? [' ', h('span', { class: 'badge bad' }, 'overdue')] : ''),
    h('td', {}, stateWords[r.state] || r.state));
}

const stateWords = {
  'open': 'open', 'acknowledged': 'acknowledged', 'fulfilled': 'answered', 'partially-fulfilled': 'partly answered, open',
  'refused': 'refused', 'withdrawn': 'withdrawn',
};

// ---- requests and cases ----

async function showRequests() {
  const [inbox, outbox] = await Promise.all([call('GET', listingPath('/v1/requests', { box: 'inbox' })),
    call('GET', listingPath('/v1/requests', { box: 'outbox' }))]);
  view.replaceChildren(
    h('h2', {}, 'Requests'),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/requests/new', id: 'request-new' }, 'File a request…')),
    h('h3', {}, 'Addressed to your agency'),
    requestListing('requests-inbox', inbox, { box: 'inbox' }),
    h('h3', {}, 'Filed by your agency'),
    requestListing('requests-outbox', outbox, { box: 'outbox' }));
}

async function showCases() {
  const page = await call('GET', listingPath('/v1/cases', {}));
  view.replaceChildren(h('h2', {}, 'Cases'),
    paged('cases', ['Case'], page, 'cases', (cursor) => listingPath('/v1/cases', {}, cursor),
      (c) => h('tr', { 'data-case': c }, h('td', {}, caseLink(c)))));
}

async function showCase(caseID) {
  const c = await call('GET', '/v1/cases/' + encodeURIComponent(caseID));
  const list = await call('GET', listingPath('/v1/cases/' + encodeURIComponent(caseID) + '/exhibits', {}));
  view.replaceChildren(
    h('h2', {}, 'Case ' + caseID),
    h('dl', { class: 'facts panel' },
      h('dt', {}, 'Exhibits you may see'), h('dd', {}, String(c.exhibits)),
      h('dt', {}, 'Owners'), h('dd', {}, (c.owners || []).join(', ') || '–'),
      h('dt', {}, 'Requests you take part in'), h('dd', {}, String(c.requests)),
      h('dt', {}, 'First registered'), h('dd', {}, formatTime(c.first_registered_at)),
      h('dt', {}, 'Last activity'), h('dd', {}, formatTime(c.last_activity_at))),
    h('h3', {}, 'Exhibits'),
    paged('case-exhibits', ['Exhibit', 'Number', 'Description', 'Owner', 'Size', 'Registered', 'State'], list, 'exhibits',
      (cursor) => listingPath('/v1/cases/' + encodeURIComponent(caseID) + '/exhibits', {}, cursor),
      (x) => h('tr', { 'data-evidence': x.evidence_id },
        h('td', {}, exhibitLink(x.evidence_id)), h('td', {}, x.exhibit_number || '–'), h('td', {}, x.description || ''),
        h('td', {}, x.owner), h('td', {}, formatBytes(x.size)), h('td', {}, formatTime(x.registered_at)),
        h('td', {}, exhibitState(x)))));
}

function exhibitState(x) {
  const s = [];
  if (x.disposed) s.push(h('span', { class: 'badge' }, 'disposed of'));
  if (x.held) s.push(h('span', { class: 'badge warn' }, 'legal hold'));
  if (x.damaged) s.push(h('span', { class: 'badge bad' }, 'damaged'));
  const shared = (x.grants || []).filter((g) => g.state === 'active').length;
  if (shared) s.push(h('span', { class: 'badge ok' }, shared + (shared === 1 ? ' grant' : ' grants')));
  return s.length ? s : '–';
}

// ---- a request ----

async function showRequest(id) {
  const [r, hist] = await Promise.all([call('GET', '/v1/requests/' + id), call('GET', '/v1/requests/' + id + '/events')]);
  const me = state.me ? state.me.agency : '';
  const open = ['open', 'acknowledged', 'partially-fulfilled'].includes(r.state);
  const addressee = r.to === me;
  const requester = r.from === me;
  const actions = h('div', { class: 'actions' },
    addressee && r.state === 'open' ? h('button', { id: 'act-acknowledge', class: 'secondary', onclick: () => openRequestReason(r, 'acknowledge') }, 'Acknowledge…') : null,
    addressee && open ? h('button', { id: 'act-respond', onclick: () => openRespond(r) }, 'Respond…') : null,
    requester && open ? h('button', { id: 'act-withdraw', class: 'danger', onclick: () => openRequestReason(r, 'withdraw') }, 'Withdraw…') : null);
  view.replaceChildren(...present(
    h('h2', {}, 'Request ', h('span', { class: 'mono', id: 'rq-id' }, r.request_id)),
    r.damage ? h('p', { class: 'panel badge bad' }, 'The custody record of this request failed its integrity check at event ' + r.damage.seq + ': ' + r.damage.reason) : null,
    h('div', { class: 'panel' },
      h('dl', { class: 'facts' },
        h('dt', {}, 'State'), h('dd', { id: 'rq-state', 'data-state': r.state }, stateWords[r.state] || r.state,
          r.overdue ? [' ', h('span', { class: 'badge bad' }, 'overdue')] : ''),
        h('dt', {}, 'From'), h('dd', {}, r.from), h('dt', {}, 'To'), h('dd', {}, r.to),
        h('dt', {}, 'Instrument'), h('dd', {}, (r.instrument_name || r.instrument) + ' (' + r.instrument + ')'),
        h('dt', {}, 'Reference'), h('dd', {}, r.reference),
        h('dt', {}, 'Issuing authority'), h('dd', {}, r.issuing_authority),
        h('dt', {}, 'Sought'), h('dd', { class: 'prewrap' }, r.sought),
        r.case_id ? [h('dt', {}, 'Requester\'s case'), h('dd', {}, r.case_id)] : null,
        h('dt', {}, 'Deadline'), h('dd', { id: 'rq-deadline' }, formatTime(r.deadline), r.emergency ? [' ', h('span', { class: 'badge bad' }, 'emergency')] : ''),
        h('dt', {}, 'Filed'), h('dd', {}, formatTime(r.filed_at)),
        r.reason ? [h('dt', {}, 'Reason'), h('dd', {}, r.reason)] : null),
      actions),
    h('h3', {}, 'Exhibits shared in answer'),
    (r.shares || []).length
      ? h('ul', { id: 'rq-shares' }, r.shares.map((s) => h('li', { 'data-evidence': s.evidence_id }, exhibitLink(s.evidence_id), ' under grant ', h('span', { class: 'mono' }, s.grant_id))))
      : h('p', { class: 'muted', id: 'rq-shares' }, 'None yet.'),
    h('h3', {}, 'Custody of the request'),
    historyTable(hist.events || [])));
}

function openRequestReason(r, what) {
  const dlg = dialog('dlg-reason');
  const texts = {
    acknowledge: ['Acknowledge the request', 'Tells ' + r.from + ' that your agency received the request. It is signed with your key and recorded in the request\'s custody.', 'A note, optional', 'The request is acknowledged.'],
    withdraw: ['Withdraw the request', r.to + ' will no longer be asked to answer it.', 'Reason, for the custody record', 'The request is withdrawn.'],
  }[what];
  $('dlg-reason-title').textContent = texts[0];
  $('dlg-reason-text').textContent = texts[1];
  $('reason-label').textContent = texts[2];
  $('reason-submit').textContent = texts[0];
  $('reason-text').value = '';
  $('form-reason').onsubmit = (ev) => {
    ev.preventDefault();
    const reason = $('reason-text').value;
    submitting(dlg, $('reason-submit'), () => call('POST', '/v1/requests/' + r.request_id + '/' + what, reason ? { reason } : {}),
      (res) => texts[3] + custodyNote(res.custody));
  };
  dlg.open();
}

// openRespond answers a request: share exhibits of one of the agency's cases, or
// refuse with a reason.
async function openRespond(r) {
  const dlg = dialog('dlg-respond');
  $('dlg-respond-text').textContent = r.from + ' asks, under ' + (r.instrument_name || r.instrument) + ' (' + r.reference + '): ' + r.sought;
  const cases = $('respond-case');
  const list = $('respond-exhibits');
  list.replaceChildren(h('p', { class: 'muted' }, 'Choose a case.'));
  $('respond-refuse').checked = false;
  $('respond-reason').value = '';
  $('respond-partial').checked = false;
  $('respond-view-only').checked = false;
  $('respond-max').value = '0';
  const mode = () => {
    const refuse = $('respond-refuse').checked;
    $('respond-share-part').hidden = refuse;
    $('respond-reason').required = refuse;
  };
  $('respond-refuse').onchange = mode;
  $('respond-share').onchange = mode;
  $('respond-share').checked = true;
  mode();
  const loadExhibits = async () => {
    list.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const page = await call('GET', '/v1/cases/' + encodeURIComponent(cases.value) + '/exhibits?limit=500');
      const mine = (page.exhibits || []).filter((x) => state.me && x.owner === state.me.agency && !x.disposed);
      list.replaceChildren(...(mine.length ? mine.map((x) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: x.evidence_id, name: 'respond-exhibit' }),
        h('span', {}, h('span', { class: 'mono' }, x.evidence_id), ' ', x.exhibit_number ? '[' + x.exhibit_number + '] ' : '', x.description || '', ' (' + formatBytes(x.size) + ')')))
        : [h('p', { class: 'muted' }, 'Your agency has no exhibit in this case.')]));
    } catch (e) {
      list.replaceChildren(h('p', { class: 'dlg-error' }, e.message));
    }
  };
  cases.onchange = loadExhibits;
  try {
    const page = await call('GET', '/v1/cases?limit=500');
    cases.replaceChildren(h('option', { value: '' }, 'Choose a case…'), ...(page.cases || []).map((c) => h('option', { value: c }, c)));
  } catch (e) {
    cases.replaceChildren();
    list.replaceChildren(h('p', { class: 'dlg-error' }, e.message));
  }
  $('form-respond').onsubmit = (ev) => {
    ev.preventDefault();
    let body;
    if ($('respond-refuse').checked) {
      body = { refuse: true, reason: $('respond-reason').value };
    } else {
      const share = [...document.querySelectorAll('input[name=respond-exhibit]:checked')].map((x) => x.value);
      if (!share.length) {
        dlg.fail(new Error('Choose at least one exhibit to share, or refuse the request.'));
        return;
      }
      body = { share, partial: $('respond-partial').checked, max_downloads: Number($('respond-max').value), view_only: $('respond-view-only').checked };
      if ($('respond-reason').value) body.reason = $('respond-reason').value;
    }
    submitting(dlg, $('respond-submit'), () => call('POST', '/v1/requests/' + r.request_id + '/respond', body),
      (res) => (body.refuse ? 'The request is refused.' : 'Shared ' + (res.grants || []).length + ' exhibit(s) with ' + r.from + '.') + custodyNote(res.custody));
  };
  dlg.open();
}

// ---- filing a request ----

async function showNewRequest() {
  const instruments = await call('GET', '/v1/instruments');
  const select = h('select', { id: 'rq-instrument', required: true },
    instruments.map((i) => h('option', { value: i.id }, i.name + ' (' + i.id + ')')));
  const hint = h('p', { class: 'muted', id: 'rq-instrument-hint', 'aria-live': 'polite' });
  const describe = () => {
    const i = instruments.find((x) => x.id === select.value);
    if (!i) { hint.textContent = ''; return; }
    hint.textContent = i.law + '. Without a deadline of your own, the answer is due ' + formatDuration(i.deadline_seconds) + ' after filing' +
      (i.emergency_deadline_seconds ? '; in an emergency, ' + formatDuration(i.emergency_deadline_seconds) : '; it has no emergency procedure') + '. ' +
      (i.allows_download ? 'Grants made in answer allow download' : 'Grants made in answer allow viewing only, no download') +
      ' and last ' + i.grant_days + ' days.';
    hint.dataset.deadlineSeconds = String(i.deadline_seconds);
  };
  select.addEventListener('change', describe);
  const field = (id, label, attrs) => h('div', {}, h('label', { for: id }, label), h('input', { id, autocomplete: 'off', ...attrs }));
  const form = h('form', { id: 'request-form', class: 'panel' },
    h('div', { class: 'grid2' },
      field('rq-to', 'Addressed to (agency)', { required: true, placeholder: 'agency-nl', spellcheck: 'false' }),
      h('div', {}, h('label', { for: 'rq-instrument' }, 'Legal instrument'), select)),
    hint,
    h('div', { class: 'grid2' },
      field('rq-reference', 'Your reference', { required: true, placeholder: 'EIO 2026/0042', maxlength: 512 }),
      field('rq-authority', 'Issuing authority', { required: true, placeholder: 'Public prosecutor, district of …', maxlength: 512 })),
    h('label', { for: 'rq-sought' }, 'Evidence sought'),
    h('textarea', { id: 'rq-sought', required: true, rows: 4, maxlength: 4096 }),
    h('div', { class: 'grid2' },
      field('rq-case', 'Your case (optional)', { pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}', spellcheck: 'false' }),
      field('rq-deadline', 'Deadline (optional; UTC)', { type: 'datetime-local' })),
    h('label', { class: 'check' }, h('input', { id: 'rq-emergency', type: 'checkbox' }), 'Emergency (the instrument\'s emergency deadline)'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'rq-submit' }, 'File the request')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      to: $('rq-to').value.trim(), instrument: select.value, reference: $('rq-reference').value,
      issuing_authority: $('rq-authority').value, sought: $('rq-sought').value,
    };
    if ($('rq-case').value.trim()) body.case_id = $('rq-case').value.trim();
    if ($('rq-deadline').value) body.deadline = $('rq-deadline').value + (($('rq-deadline').value.length === 16) ? ':00Z' : 'Z');
    if ($('rq-emergency').checked) body.emergency = true;
    $('rq-submit').disabled = true;
    showAlert('');
    try {
      const res = await call('POST', '/v1/requests', body);
      location.hash = '#/requests/' + res.request.request_id;
      await waitForRoute();
      showAlert('Request ' + res.request.request_id + ' filed with ' + res.request.to + ', due ' + formatTime(res.request.deadline) + '.' + custodyNote(res.custody), true);
    } catch (e) {
      showAlert(e.message);
    } finally {
      if ($('rq-submit')) $('rq-submit').disabled = false;
    }
  });
  view.replaceChildren(h('h2', {}, 'File a request for evidence'),
    h('p', { class: 'muted' }, 'The request is a signed custody record of its own; only your agency and the agency it is addressed to see it.'),
    form);
  describe();
}

// waitForRoute resolves once the page the location names is shown.
function waitForRoute() {
  return new Promise((resolve) => {
    const done = () => { window.removeEventListener('routed', done); resolve(); };
    window.addEventListener('routed', done);
  });
}

function formatDuration(s) {
  const hours = Math.round(s / 3600);
  if (hours >= 48 && hours % 24 === 0) return hours / 24 + ' days';
  return hours + ' hours';
}

// ---- an exhibit ----

async function showEvidence(id) {
  const [ev, hist] = await Promise.all([call('GET', '/v1/evidence/' + id), call('GET', '/v1/evidence/' + id + '/events')]);
  rememberExhibit(id);
  const mine = state.me && ev.owner === state.me.agency;
  const held = isHeld(hist.events || []);
  const awaiting = (ev.grants || []).filter((g) => state.me && g.to === state.me.agency && g.state === 'active' && !g.accepted);
  const disposed = !!ev.disposal;
  const court = state.me && state.me.role === 'court';
  const canDownload = !disposed && mine || !disposed && (ev.grants || []).some((g) => state.me && g.to === state.me.agency && g.state === 'active' && g.accepted && !g.view_only);

  const actions = h('div', { class: 'actions' },
    canDownload ? h('button', { id: 'act-download', onclick: () => download(id) }, 'Download') : null,
    awaiting.length ? h('button', { id: 'act-accept', onclick: () => openAccept(id, awaiting[0]) }, 'Accept the grant…') : null,
    mine ? h('button', { id: 'act-share', class: 'secondary', onclick: () => openShare(id) }, 'Share…') : null,
    mine && !held ? h('button', { id: 'act-hold', class: 'secondary', onclick: () => openReason(id, 'hold') }, 'Put under legal hold…') : null,
    mine && held ? h('button', { id: 'act-release', class: 'secondary', onclick: () => openReason(id, 'release') }, 'Release the legal hold…') : null,
    (mine || court) && !disposed ? h('button', { id: 'act-dispose', class: 'danger', onclick: () => openDispose(ev) }, 'Dispose of…') : null);

  view.replaceChildren(...present(
    h('h2', {}, 'Exhibit ', h('span', { class: 'mono', id: 'ev-id' }, id)),
    ev.damage ? h('p', { class: 'panel badge bad' }, 'The custody record of this exhibit failed its integrity check at event ' + ev.damage.seq + ': ' + ev.damage.reason) : null,
    h('div', { class: 'panel' },
      h('dl', { class: 'facts' },
        h('dt', {}, 'Case'), h('dd', {}, h('a', { href: '#/cases/' + ev.case_id }, ev.case_id)),
        ev.description ? [h('dt', {}, 'Description'), h('dd', {}, ev.description)] : null,
        h('dt', {}, 'SHA-256'), h('dd', { class: 'mono', id: 'ev-sha256' }, ev.sha256),
        h('dt', {}, 'Size'), h('dd', {}, formatBytes(ev.size) + ' (' + ev.size + ' bytes)'),
        h('dt', {}, 'Owner'), h('dd', {}, ev.owner + ' (' + ev.jurisdiction + ')'),
        h('dt', {}, 'Registered'), h('dd', {}, formatTime(ev.registered_at)),
        h('dt', {}, 'Legal hold'), h('dd', { id: 'ev-held' }, held ? 'yes' : 'no'),
        h('dt', {}, 'Custody events'), h('dd', {}, String(ev.event_count)),
        ev.retain_until ? [h('dt', {}, 'Retained until'), h('dd', { id: 'ev-retain' }, formatTime(ev.retain_until))] : null,
        disposed ? [h('dt', {}, 'Disposed of'), h('dd', { id: 'ev-disposed' }, formatTime(ev.disposal.time) + ' by ' + party(ev.disposal.by) + ', under ' + ev.disposal.authority)] : null),
      acquisitionFacts(ev.acquisition),
      actions,
      h('div', { id: 'transfers' })),
    h('h2', {}, 'Grants'),
    grantsTable(id, ev.grants || [], mine),
    h('h2', {}, 'Custody timeline'),
    hist.partial ? h('p', { class: 'muted' }, 'Your agency\'s part of the history: the owner and courts see all of it.') : null,
    historyTable(hist.events || []),
    verifyPanel(id, mine)));
}

// acquisitionFacts shows the forensic metadata registered with the exhibit.
function acquisitionFacts(a) {
  if (!a) return null;
  const hashes = Object.entries(a.source_hashes || {}).map(([alg, d]) => h('div', {}, alg.toUpperCase() + ' ', h('span', { class: 'mono' }, d)));
  const row = (label, v, id) => v ? [h('dt', {}, label), h('dd', { id }, v)] : null;
  return h('details', { class: 'acquisition', id: 'ev-acquisition', open: true },
    h('summary', {}, 'Acquisition (forensic metadata registered with the exhibit)'),
    h('dl', { class: 'facts' },
      row('Exhibit number', a.exhibit_number, 'ev-exhibit-number'),
      row('Examiner', a.examiner, 'ev-examiner'),
      row('Tool', [a.tool, a.tool_version].filter((x) => x).join(' '), 'ev-tool'),
      row('Seized', a.seized_at ? formatTime(a.seized_at) : '', 'ev-seized-at'),
      row('Place', a.seized_place, 'ev-seized-place'),
      hashes.length ? [h('dt', {}, 'Source hashes'), h('dd', { id: 'ev-source-hashes' }, hashes)] : null,
      row('Notes', a.notes, 'ev-notes')));
}

function openDispose(ev) {
  const dlg = dialog('dlg-dispose');
  $('dlg-dispose-text').textContent = 'Destroys the content of exhibit ' + ev.evidence_id + ' and every copy of its data key. ' +
    'Its custody record stays and still verifies. This cannot be undone.' +
    (ev.retain_until ? ' The retention period of its case ends ' + formatTime(ev.retain_until) + '.' : '');
  $('dispose-authority').value = '';
  $('form-dispose').onsubmit = (e) => {
    e.preventDefault();
    submitting(dlg, $('dispose-submit'), () => call('POST', '/v1/evidence/' + ev.evidence_id + '/dispose', { authority: $('dispose-authority').value }),
      (r) => 'Disposed of.' + (r.content_destroyed ? ' The content is destroyed.' : '') + custodyNote(r.custody));
  };
  dlg.open();
}

// present drops the parts of a page that are not there (null).
function present(...parts) {
  return parts.filter((p) => p !== null && p !== undefined);
}

function isHeld(events) {
  let held = false;
  for (const e of events) {
    if (e.action === 'legal-hold') held = true;
    if (e.action === 'legal-hold-release') held = false;
  }
  return held;
}

function grantsTable(id, grants, mine) {
  if (!grants.length) return h('p', { class: 'muted', id: 'grants' }, 'Not shared.');
  return h('table', { id: 'grants' },
    h('thead', {}, h('tr', {}, ['Grant', 'To', 'Legal basis', 'Expires', 'Downloads', 'Accepted', 'State', ''].map((c) => h('th', {}, c)))),
    h('tbody', {}, grants.map((g) => h('tr', { 'data-grant': g.grant_id },
      h('td', { class: 'mono' }, g.grant_id), h('td', {}, g.to), h('td', {}, g.legal_basis), h('td', {}, formatTime(g.expires)),
      h('td', {}, g.max_downloads ? g.downloads + ' of ' + g.max_downloads : String(g.downloads)),
      h('td', {}, g.accepted ? 'yes' : 'no'),
      h('td', {}, h('span', { class: 'badge' + (g.state === 'active' ? ' ok' : '') }, g.state + (g.view_only ? ', view only' : ''))),
      h('td', {},
        mine && g.state === 'active' ? h('button', { class: 'small danger', onclick: () => openReason(id, 'revoke', g) }, 'Revoke…') : null,
        !mine && state.me && g.to === state.me.agency && g.state === 'active' && !g.accepted
          ? h('button', { class: 'small', onclick: () => openAccept(id, g) }, 'Accept…') : null)))));
}

const actionWords = {
  'register': 'registered the exhibit', 'share': 'shared', 'accept': 'accepted the grant', 'revoke': 'revoked a grant',
  'download': 'downloaded', 'download-start': 'started a download', 'download-resume': 'resumed a download',
  'download-deliver': 'delivered a download', 'download-abandon': 'abandoned a download', 'download-progress': 'download in progress',
  'received': 'signed the receipt of a download', 'legal-hold': 'put under legal hold', 'legal-hold-release': 'released the legal hold',
  'bundle-export': 'exported a court bundle', 'integrity-failure': 'INTEGRITY FAILURE', 'dispose': 'disposed of the exhibit',
  'request-filed': 'filed the request', 'request-acknowledged': 'acknowledged the request', 'request-fulfilled': 'answered the request',
  'request-partially-fulfilled': 'answered part of the request', 'request-refused': 'refused the request',
  'request-withdrawn': 'withdrew the request', 'request-overdue': 'marked the request overdue',
};

function historyTable(events) {
  return h('table', { id: 'timeline' },
    h('thead', {}, h('tr', {}, ['#', 'Time', 'What', 'Who', 'Signed by', 'With', 'Legal basis', 'Detail'].map((c) => h('th', {}, c)))),
    h('tbody', {}, events.map((e) => h('tr', { 'data-action': e.action },
      h('td', {}, String(e.seq)), h('td', {}, formatTime(e.time)),
      h('td', {}, actionWords[e.action] || e.action, e.failure ? h('span', { class: 'badge bad' }, ' failed: ' + e.failure) : ''),
      h('td', {}, party(e.actor)), h('td', { class: 'mono' }, e.signer || '–'), h('td', {}, party(e.counterparty)),
      h('td', {}, e.legal_basis || (e.grant && e.grant.legal_basis) || '–'),
      h('td', {}, historyDetail(e))))));
}

function historyDetail(e) {
  const notes = [];
  // A share made in answer to a request cites it in its grant.
  const rq = e.request_id || (e.grant && e.grant.request_id);
  if (rq && !e.action.startsWith('request-')) notes.push(h('span', {}, 'in answer to ', requestLink(rq)));
  for (const s of (e.answer && e.answer.shares) || []) notes.push(h('span', {}, 'shared ', exhibitLink(s.evidence_id)));
  if (e.detail) notes.push(e.detail);
  if ((e.action === 'download' || e.action === 'download-deliver') && e.received_in === undefined) notes.push('not received: no signed receipt');
  if (e.received_in !== undefined) notes.push('receipt signed (event ' + e.received_in + ')');
  if (e.acknowledges !== undefined) notes.push('of download ' + e.acknowledges);
  if (!notes.length) return '–';
  return notes.flatMap((n, i) => i ? ['; ', n] : [n]);
}

// ---- changes: share, revoke, accept, hold, release ----

function dialog(id) {
  const d = $(id);
  const err = d.querySelector('.dlg-error');
  err.hidden = true;
  return {
    d,
    fail(e) { err.textContent = e.message; err.hidden = false; },
    open() { d.showModal(); },
  };
}

// submitting runs a change from a dialog: the dialog stays open with the reason on a
// refusal, closes on success and shows the page again.
async function submitting(dlg, button, run, done) {
  button.disabled = true;
  try {
    const r = await run();
    dlg.d.close();
    showAlert(done(r), true);
    const msg = $('alert').textContent;
    await route();
    showAlert(msg, true);
  } catch (e) {
    dlg.fail(e);
  } finally {
    button.disabled = false;
  }
}

function custodyNote(c) {
  return c ? ' Custody event ' + c.seq + ' (' + c.action + ') is recorded at log index ' + c.log_index + '.' : '';
}

function openShare(id) {
  const dlg = dialog('dlg-share');
  const exp = new Date(Date.now() + 30 * 86400e3);
  $('share-expires').value = exp.toISOString().slice(0, 10);
  $('form-share').onsubmit = (ev) => {
    ev.preventDefault();
    const body = {
      to: $('share-to').value.trim(), legal_basis: $('share-basis').value,
      expires: $('share-expires').value + 'T23:59:59Z', max_downloads: Number($('share-max').value),
      view_only: $('share-view-only').checked,
    };
    submitting(dlg, $('share-submit'), () => call('POST', '/v1/evidence/' + id + '/grants', body),
      (r) => 'Shared with ' + r.grant.to + ' (grant ' + r.grant.grant_id + ').' + custodyNote(r.custody));
  };
  dlg.open();
}

function openAccept(id, grant) {
  const dlg = dialog('dlg-accept');
  $('dlg-accept-text').textContent = 'Exhibit ' + id + ' is shared with your agency by ' + (grant.owner || 'its owner') +
    ' under "' + grant.legal_basis + '", until ' + formatTime(grant.expires) + '.';
  $('form-accept').onsubmit = (ev) => {
    ev.preventDefault();
    submitting(dlg, $('accept-submit'), () => call('POST', '/v1/evidence/' + id + '/accept', { grant_id: grant.grant_id }),
      (r) => 'Accepted grant ' + r.grant.grant_id + '.' + custodyNote(r.custody));
  };
  dlg.open();
}

function openReason(id, what, grant) {
  const dlg = dialog('dlg-reason');
  const texts = {
    hold: ['Put under legal hold', 'The stored content cannot be deleted until the hold is released.', '/hold', 'Put under legal hold.'],
    release: ['Release the legal hold', 'The content is no longer held.', '/release', 'The legal hold is released.'],
    revoke: ['Revoke the grant', grant ? 'Agency ' + grant.to + ' can no longer view or download the exhibit under grant ' + grant.grant_id + '.' : '',
      grant ? '/grants/' + grant.grant_id + '/revoke' : '', 'The grant is revoked.'],
  }[what];
  $('dlg-reason-title').textContent = texts[0];
  $('dlg-reason-text').textContent = texts[1];
  $('reason-label').textContent = 'Reason, for the custody record';
  $('reason-submit').textContent = texts[0];
  $('reason-text').value = '';
  $('form-reason').onsubmit = (ev) => {
    ev.preventDefault();
    const reason = $('reason-text').value;
    submitting(dlg, $('reason-submit'), () => call('POST', '/v1/evidence/' + id + texts[2], reason ? { reason } : {}),
      (r) => texts[3] + custodyNote(r.custody || r));
  };
  dlg.open();
}

// ---- transfers ----

// follow polls a transfer of the proxy until it ends, drawing its progress.
async function follow(job, row) {
  const bar = row.querySelector('progress');
  const text = row.querySelector('.status');
  const phases = { receiving: 'Handing to the console', hashing: 'Hashing', uploading: 'Sending to the gateway',
    downloading: 'Receiving from the gateway', resuming: 'Checking the bytes already received' };
  for (;;) {
    const j = await call('GET', '/console/jobs/' + job.id);
    row.dataset.state = j.state;
    if (j.total > 0) { bar.max = j.total; bar.value = j.done; }
    if (j.state === 'done' || j.state === 'failed') return j;
    text.textContent = j.state === 'waiting' ? 'Waiting for another transfer to finish…'
      : (phases[j.phase] || 'Working') + ': ' + formatBytes(j.done) + ' of ' + formatBytes(j.total);
    await new Promise((r) => setTimeout(r, 400));
  }
}

function transferRow(name) {
  return h('div', { class: 'transfer panel' }, h('div', { class: 'name' }, name),
    h('progress', { max: 1, value: 0, 'aria-label': 'Progress of ' + name }), h('div', { class: 'status', 'aria-live': 'polite' }, 'Starting…'));
}

async function download(id) {
  const row = transferRow('Download of ' + id);
  row.id = 'download';
  $('transfers').replaceChildren(row);
  $('act-download').disabled = true;
  try {
    const job = await call('POST', '/console/downloads', { evidence_id: id });
    const j = await follow(job, row);
    const text = row.querySelector('.status');
    if (j.state === 'failed') {
      text.replaceChildren(h('strong', {}, 'The download failed: '), j.problem.detail || j.problem.title);
      return;
    }
    const r = j.result;
    text.replaceChildren(
      h('p', {}, h('span', { class: 'badge ok' }, 'SHA-256 checked'), ' ', formatBytes(r.size) + ' received; SHA-256 ',
        h('span', { class: 'mono', id: 'download-sha256' }, r.sha256), ' matches the registered digest.'),
      r.received ? h('p', { id: 'download-receipt' }, 'Your signed receipt is recorded as custody event ' + r.received.seq + '.')
        : h('p', { class: 'badge warn' }, j.warning || 'Your receipt was not recorded.'),
      h('a', { class: 'button', id: 'download-save', href: r.file, download: id }, 'Save the file'));
  } catch (e) {
    row.querySelector('.status').textContent = 'The download failed: ' + e.message;
  } finally {
    $('act-download').disabled = false;
  }
}

function showUpload() {
  const list = h('div', { id: 'uploads' });
  const form = h('form', { id: 'upload-form', class: 'panel' },
    h('div', { class: 'grid2' },
      h('div', {}, h('label', { for: 'upload-case' }, 'Case'),
        h('input', { id: 'upload-case', required: true, autocomplete: 'off', placeholder: 'CASE-2026-0042', pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}' })),
      h('div', {}, h('label', { for: 'upload-description' }, 'Description (a few words)'),
        h('input', { id: 'upload-description', autocomplete: 'off', placeholder: 'seized laptop' }))),
    forensicFields(),
    h('label', { for: 'upload-files' }, 'Files (one exhibit each)'),
    h('input', { id: 'upload-files', type: 'file', multiple: true, required: true }),
    h('p', { class: 'muted' }, 'Each file is handed to the console on this computer, hashed and sent to the gateway resumably; the registration is signed with your key.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'upload-submit' }, 'Upload')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); upload(list); });
  view.replaceChildren(h('h2', {}, 'Upload evidence'), form, list);
}

// forensicParams are the query parameters of POST /v1/evidence that carry the
// forensic metadata (docs/api.md, "Forensic metadata"); the inputs are named after them.
const forensicParams = ['exhibit_number', 'examiner', 'tool', 'tool_version', 'seized_at', 'seized_place',
  'source_md5', 'source_sha1', 'source_sha256', 'notes'];

function forensicFields() {
  const field = (name, label, attrs) => h('div', {}, h('label', { for: 'upload-' + name }, label),
    h('input', { id: 'upload-' + name, autocomplete: 'off', spellcheck: 'false', maxlength: 512, ...attrs }));
  const hex = (n) => ({ pattern: '[0-9a-fA-F]{' + n + '}', class: 'mono', title: n + ' hexadecimal digits' });
  return h('details', { class: 'forensic', id: 'upload-forensic' },
    h('summary', {}, 'Acquisition (forensic metadata, optional; recorded in each exhibit\'s register event)'),
    h('div', { class: 'grid2' },
      field('exhibit_number', 'Exhibit number', { placeholder: 'NL-0042-EX3' }),
      field('examiner', 'Examiner', {}),
      field('tool', 'Acquisition tool', { placeholder: 'FTK Imager' }),
      field('tool_version', 'Tool version', { placeholder: '4.7.1' }),
      field('seized_at', 'Seized at (UTC)', { type: 'datetime-local' }),
      field('seized_place', 'Seized at (place)', {})),
    field('source_md5', 'MD5 of the source medium', hex(32)),
    field('source_sha1', 'SHA-1 of the source medium', hex(40)),
    field('source_sha256', 'SHA-256 of the source medium', hex(64)),
    h('label', { for: 'upload-notes' }, 'Notes'),
    h('textarea', { id: 'upload-notes', rows: 2, maxlength: 4096 }));
}

// forensicQuery reads the acquisition fields of the upload form.
function forensicQuery() {
  const q = {};
  for (const name of forensicParams) {
    let v = $('upload-' + name).value.trim();
    if (!v) continue;
    if (name === 'seized_at') v += v.length === 16 ? ':00Z' : 'Z';
    q[name] = v;
  }
  return q;
}

async function upload(list) {
  const files = [...$('upload-files').files];
  const caseID = $('upload-case').value.trim();
  const desc = $('upload-description').value;
  const forensic = forensicQuery();
  $('upload-submit').disabled = true;
  const max = state.session ? state.session.max_upload_size : Infinity;
  try {
    for (const f of files) {
      const row = transferRow(f.name + ' (' + formatBytes(f.size) + ')');
      row.dataset.file = f.name;
      list.append(row);
      if (f.size > max) {
        row.dataset.state = 'failed';
        row.querySelector('.status').textContent = 'Too large: the console takes files up to ' + formatBytes(max) + '.';
        continue;
      }
      await uploadOne(f, caseID, desc, forensic, row);
    }
  } finally {
    $('upload-submit').disabled = false;
  }
}

// uploadOne hands one file to the console (XMLHttpRequest, for the progress of the
// handing), then follows the console's upload to the gateway.
async function uploadOne(file, caseID, desc, forensic, row) {
  const text = row.querySelector('.status');
  const bar = row.querySelector('progress');
  const q = new URLSearchParams({ case_id: caseID, description: desc, name: file.name, ...forensic });
  try {
    const job = await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/console/uploads?' + q);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => {
        bar.max = e.total; bar.value = e.loaded;
        text.textContent = 'Handing to the console: ' + formatBytes(e.loaded) + ' of ' + formatBytes(e.total);
      };
      xhr.onerror = () => reject(new ApiError({ detail: 'the console did not take the file' }, 0));
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* below */ }
        if (xhr.status === 202) resolve(body); else reject(new ApiError(body, xhr.status));
      };
      xhr.send(file);
    });
    const j = await follow(job, row);
    if (j.state === 'failed') {
      text.replaceChildren(h('strong', {}, 'Not registered: '), j.problem.detail || j.problem.title);
      return;
    }
    const ev = j.result.evidence;
    row.dataset.evidence = ev.evidence_id;
    rememberExhibit(ev.evidence_id);
    text.replaceChildren('Registered as ', exhibitLink(ev.evidence_id), ', SHA-256 ', h('span', { class: 'mono' }, ev.sha256), '.',
      custodyNote(j.result.custody));
  } catch (e) {
    row.dataset.state = 'failed';
    text.replaceChildren(h('strong', {}, 'Not registered: '), e.message);
  }
}

// ---- the verified timeline ----

function verifyPanel(id, mine) {
  const out = h('div', { id: 'verify-out' });
  const panel = h('div', { class: 'panel', id: 'verify' },
    h('h3', {}, 'Verify the custody in this browser'),
    h('p', { class: 'muted' }, 'Exports the court bundle (recorded as a bundle-export event) and checks every signature, the chain and the log proofs here, with the court\'s verifier, as a court does offline.'),
    h('label', { for: 'verify-trust-root' }, 'Pinned trust root (optional; otherwise the one the gateway serves now)'),
    h('input', { id: 'verify-trust-root', type: 'file', accept: '.json,application/json' }),
    h('div', { class: 'actions' },
      h('button', { id: 'verify-run', onclick: () => verifyExhibit(id, out) }, 'Verify the custody')),
    out);
  if (state.session && !state.session.verifier) {
    panel.replaceChildren(h('h3', {}, 'Verify the custody in this browser'),
      h('p', {}, 'The in-browser verifier is not built into this console (run "go generate ./console" before building evidencegw). Export the bundle with "evidencegw bundle" and verify it with "evidencegw verify".'));
  }
  if (!mine && state.me && state.me.role !== 'court') {
    panel.append(h('p', { class: 'muted' }, 'Court bundles are exported by the owner and by courts: the gateway may refuse you.'));
  }
  return panel;
}

function loadVerifier() {
  if (!state.verifierLoaded) {
    state.verifierLoaded = new Promise((resolve, reject) => {
      const s = h('script', { src: 'wasm_exec.js' });
      s.onload = async () => {
        try {
          const go = new Go();
          const wasm = await WebAssembly.instantiateStreaming(fetch('custody-verify.wasm'), go.importObject);
          go.run(wasm.instance);
          resolve();
        } catch (e) { reject(e); }
      };
      s.onerror = () => reject(new Error('the verifier could not be loaded'));
      document.head.append(s);
    });
  }
  return state.verifierLoaded;
}

async function verifyExhibit(id, out) {
  const button = $('verify-run');
  button.disabled = true;
  out.replaceChildren(h('p', { id: 'verify-status' }, 'Loading the verifier and exporting the bundle…'));
  try {
    await loadVerifier();
    const resp = await fetch('/v1/evidence/' + id + '/bundle', { method: 'POST', headers: { Accept: 'application/vnd.evidencegw.custody-bundle.v1+json' } });
    const bundle = await bytesOf(resp);
    let trustRoot, trustRootName;
    const pinned = $('verify-trust-root').files[0];
    if (pinned) {
      trustRoot = new Uint8Array(await pinned.arrayBuffer());
      trustRootName = pinned.name;
    } else {
      const tr = await fetch('/v1/trust-root', { headers: { Accept: 'application/vnd.evidencegw.trust-root.v1+json' } });
      trustRoot = await bytesOf(tr);
      trustRootName = 'trust root served by the gateway';
    }
    const result = verifyBundle(bundle, trustRoot, { bundleName: id + '-bundle.json', trustRootName });
    showVerdict(out, result, id, bundle, pinned);
  } catch (e) {
    out.replaceChildren(h('div', { class: 'verdict bad', 'data-result': 'error' }, 'Could not verify', h('small', {}, e.message)));
  } finally {
    button.disabled = false;
  }
}

function showVerdict(out, result, id, bundle, pinned) {
  const small = result.verified
    ? result.report.events.length + ' custody events verified' + (pinned ? ' against your pinned trust root.' : ' against the trust root the gateway serves now: a court pins its own.')
    : result.error;
  const frame = h('iframe', { class: 'report', id: 'verify-report', title: 'Court report of the custody', sandbox: 'allow-same-origin' });
  frame.srcdoc = result.html;
  frame.addEventListener('load', () => {
    const d = frame.contentDocument;
    if (d && d.documentElement) frame.style.height = (d.documentElement.scrollHeight + 20) + 'px';
  });
  out.replaceChildren(
    h('div', { class: 'verdict ' + (result.verified ? 'ok' : 'bad'), id: 'verdict', 'data-result': result.verified ? 'verified' : 'failed' },
      result.verified ? '✓ VERIFIED' : '✗ FAILED', h('small', {}, small)),
    h('div', { class: 'actions' },
      saveButton('Save the bundle', new Blob([bundle], { type: 'application/json' }), id + '-bundle.json'),
      saveButton('Save the report (HTML)', new Blob([result.html], { type: 'text/html' }), id + '-custody-report.html')),
    frame);
}

function saveButton(label, blob, name) {
  return h('button', { class: 'secondary', onclick: () => {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } }, label);
}

// ---- start ----

function wire() {
  for (const b of document.querySelectorAll('dialog [data-close]')) {
    b.addEventListener('click', () => b.closest('dialog').close());
  }
  $('open-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('open-id').value.trim();
    location.hash = /^ev-[a-z2-7]{26}$/.test(v) ? '#/evidence/' + v : '#/cases/' + v;
  });
  window.addEventListener('hashchange', route);
  // A file dropped outside the file input must not replace the page.
  window.addEventListener('dragover', (e) => { if (e.target.type !== 'file') e.preventDefault(); });
  window.addEventListener('drop', (e) => { if (e.target.type !== 'file') e.preventDefault(); });
}

async function start() {
  wire();
  try {
    [state.session, state.me] = await Promise.all([call('GET', '/console/session'), call('GET', '/v1/whoami')]);
    $('who').textContent = party(state.me) + ' · acts signed by ' + state.session.act_signer + ' · ' + state.session.gateway;
  } catch (e) {
    $('who').textContent = 'Not connected';
    showAlert(e.message);
  }
  document.body.dataset.ready = 'true';
  await route();
}

start();
