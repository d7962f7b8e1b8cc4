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
    super(problem.detail || problem.title || ('HTTP ' + status));
    this.problem = problem;
    this.status = status;
  }
  kind() {
    const t = this.problem.type || '';
    return t.slice(t.indexOf('#') + 1);
  }
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
      return;
    }
  }
  view.replaceChildren(h('h2', {}, 'No such page'), h('p', {}, 'Use the menu above, or open an exhibit by its id.'));
}

// notListed says that the gateway does not offer a listing yet: its route answers 404
// "no such endpoint" (docs/api.md, not-found), a gateway older than the console.
function notListed(e) {
  return e instanceof ApiError && e.status === 404 && e.kind() === 'not-found' && e.problem.detail === 'no such endpoint';
}

// ---- inbox ----

async function showInbox() {
  const parts = [h('h2', {}, 'Inbox of ' + (state.me ? state.me.agency : 'your agency'))];
  let inbox = null;
  try {
    inbox = await call('GET', '/v1/inbox');
  } catch (e) {
    if (!notListed(e)) throw e;
    parts.push(h('p', { class: 'panel', id: 'inbox-unavailable' },
      'This gateway does not list an inbox yet. Open an exhibit by its id with the box above; the exhibits you opened or uploaded in this session are listed below.'));
  }
  if (inbox) {
    parts.push(
      grantSection('Waiting for your acceptance', inbox.awaiting_acceptance, true),
      grantSection('Active grants to your agency', inbox.active_grants, false),
      requestSection('Requests addressed to your agency', inbox.requests),
      requestSection('Deadlines', inbox.deadlines));
  }
  const recent = recentExhibits();
  parts.push(h('h2', {}, 'Opened in this session'),
    recent.length ? h('ul', {}, recent.map((id) => h('li', {}, exhibitLink(id))))
      : h('p', { class: 'muted' }, 'None yet.'));
  view.replaceChildren(...parts.flat());
}

function grantSection(title, page, acceptable) {
  const grants = (page && page.grants) || [];
  if (!grants.length) return [h('h3', {}, title), h('p', { class: 'muted' }, 'None.')];
  return [h('h3', {}, title), h('table', {},
    h('thead', {}, h('tr', {}, ['Exhibit', 'Case', 'From', 'Legal basis', 'Expires', ''].map((c) => h('th', {}, c)))),
    h('tbody', {}, grants.map((g) => h('tr', {},
      h('td', {}, exhibitLink(g.evidence_id)), h('td', {}, h('a', { href: '#/cases/' + g.case_id }, g.case_id)),
      h('td', {}, g.owner), h('td', {}, g.legal_basis), h('td', {}, formatTime(g.expires)),
      h('td', {}, acceptable ? h('button', { class: 'small', onclick: () => openAccept(g.evidence_id, g) }, 'Accept…') : '')))))];
}

function requestSection(title, page) {
  const reqs = (page && page.requests) || [];
  if (!reqs.length) return [h('h3', {}, title), h('p', { class: 'muted' }, 'None.')];
  return [h('h3', {}, title), requestTable(reqs)];
}

function requestTable(reqs) {
  return h('table', {},
    h('thead', {}, h('tr', {}, ['Request', 'From', 'To', 'Instrument', 'Deadline', 'State'].map((c) => h('th', {}, c)))),
    h('tbody', {}, reqs.map((r) => h('tr', {},
      h('td', { class: 'mono' }, r.request_id), h('td', {}, r.from), h('td', {}, r.to),
      h('td', {}, (r.instrument_name || r.instrument) + (r.reference ? ' ' + r.reference : '')),
      h('td', {}, formatTime(r.deadline), r.overdue ? h('span', { class: 'badge bad' }, ' overdue') : ''),
      h('td', {}, r.state)))));
}

// ---- requests and cases ----

async function showRequests() {
  const parts = [h('h2', {}, 'Requests')];
  try {
    const inbox = await call('GET', '/v1/requests?box=inbox');
    const outbox = await call('GET', '/v1/requests?box=outbox');
    parts.push(h('h3', {}, 'Addressed to your agency'), inbox.requests.length ? requestTable(inbox.requests) : h('p', { class: 'muted' }, 'None.'),
      h('h3', {}, 'Filed by your agency'), outbox.requests.length ? requestTable(outbox.requests) : h('p', { class: 'muted' }, 'None.'));
  } catch (e) {
    if (!notListed(e)) throw e;
    parts.push(h('p', { class: 'panel' }, 'This gateway does not list requests yet.'));
  }
  view.replaceChildren(...parts.flat());
}

async function showCase(caseID) {
  const parts = [h('h2', {}, 'Case ' + caseID)];
  try {
    const c = await call('GET', '/v1/cases/' + encodeURIComponent(caseID));
    const list = await call('GET', '/v1/cases/' + encodeURIComponent(caseID) + '/exhibits');
    parts.push(h('dl', { class: 'facts panel' },
      h('dt', {}, 'Exhibits you may see'), h('dd', {}, String(c.exhibits)),
      h('dt', {}, 'Owners'), h('dd', {}, (c.owners || []).join(', ')),
      h('dt', {}, 'Requests'), h('dd', {}, String(c.requests)),
      h('dt', {}, 'Last activity'), h('dd', {}, formatTime(c.last_activity_at))));
    parts.push(h('table', {},
      h('thead', {}, h('tr', {}, ['Exhibit', 'Description', 'Owner', 'Size', 'Registered'].map((x) => h('th', {}, x)))),
      h('tbody', {}, (list.exhibits || []).map((x) => h('tr', {},
        h('td', {}, exhibitLink(x.evidence_id)), h('td', {}, x.description || ''), h('td', {}, x.owner),
        h('td', {}, formatBytes(x.size)), h('td', {}, formatTime(x.registered_at)))))));
  } catch (e) {
    if (!notListed(e)) throw e;
    parts.push(h('p', { class: 'panel' }, 'This gateway does not list cases yet. Open an exhibit of the case by its id.'));
  }
  view.replaceChildren(...parts.flat());
}

// ---- an exhibit ----

async function showEvidence(id) {
  const [ev, hist] = await Promise.all([call('GET', '/v1/evidence/' + id), call('GET', '/v1/evidence/' + id + '/events')]);
  rememberExhibit(id);
  const mine = state.me && ev.owner === state.me.agency;
  const held = isHeld(hist.events || []);
  const awaiting = (ev.grants || []).filter((g) => state.me && g.to === state.me.agency && g.state === 'active' && !g.accepted);
  const canDownload = mine || (ev.grants || []).some((g) => state.me && g.to === state.me.agency && g.state === 'active' && g.accepted && !g.view_only);

  const actions = h('div', { class: 'actions' },
    canDownload ? h('button', { id: 'act-download', onclick: () => download(id) }, 'Download') : null,
    awaiting.length ? h('button', { id: 'act-accept', onclick: () => openAccept(id, awaiting[0]) }, 'Accept the grant…') : null,
    mine ? h('button', { id: 'act-share', class: 'secondary', onclick: () => openShare(id) }, 'Share…') : null,
    mine && !held ? h('button', { id: 'act-hold', class: 'secondary', onclick: () => openReason(id, 'hold') }, 'Put under legal hold…') : null,
    mine && held ? h('button', { id: 'act-release', class: 'secondary', onclick: () => openReason(id, 'release') }, 'Release the legal hold…') : null);

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
        h('dt', {}, 'Custody events'), h('dd', {}, String(ev.event_count))),
      actions,
      h('div', { id: 'transfers' })),
    h('h2', {}, 'Grants'),
    grantsTable(id, ev.grants || [], mine),
    h('h2', {}, 'Custody timeline'),
    hist.partial ? h('p', { class: 'muted' }, 'Your agency\'s part of the history: the owner and courts see all of it.') : null,
    historyTable(hist.events || []),
    verifyPanel(id, mine)));
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
  'bundle-export': 'exported a court bundle', 'integrity-failure': 'INTEGRITY FAILURE',
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
  if (e.detail) notes.push(e.detail);
  if ((e.action === 'download' || e.action === 'download-deliver') && e.received_in === undefined) notes.push('not received: no signed receipt');
  if (e.received_in !== undefined) notes.push('receipt signed (event ' + e.received_in + ')');
  if (e.acknowledges !== undefined) notes.push('of download ' + e.acknowledges);
  return notes.join('; ') || '–';
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
    h('label', { for: 'upload-files' }, 'Files (one exhibit each)'),
    h('input', { id: 'upload-files', type: 'file', multiple: true, required: true }),
    h('p', { class: 'muted' }, 'Each file is handed to the console on this computer, hashed and sent to the gateway resumably; the registration is signed with your key.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'upload-submit' }, 'Upload')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); upload(list); });
  view.replaceChildren(h('h2', {}, 'Upload evidence'), form, list);
}

async function upload(list) {
  const files = [...$('upload-files').files];
  const caseID = $('upload-case').value.trim();
  const desc = $('upload-description').value;
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
      await uploadOne(f, caseID, desc, row);
    }
  } finally {
    $('upload-submit').disabled = false;
  }
}

// uploadOne hands one file to the console (XMLHttpRequest, for the progress of the
// handing), then follows the console's upload to the gateway.
async function uploadOne(file, caseID, desc, row) {
  const text = row.querySelector('.status');
  const bar = row.querySelector('progress');
  const q = new URLSearchParams({ case_id: caseID, description: desc, name: file.name });
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
