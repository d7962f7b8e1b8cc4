// The browser verifier page: reads the chosen files locally and passes them to the
// WebAssembly verifier (cmd/custody-verify-wasm), then shows its HTML report in a
// sandboxed frame in which no script may run.
'use strict';

const MAX_BUNDLE = 64 << 20;     // custody.MaxBundleSize
const MAX_TRUST_ROOT = 1 << 20;  // custody.MaxTrustRootSize

const chosen = { 'bundle-file': null, 'trust-root-file': null, 'evidence-file': null };
let lastHTML = '';
let ready = false; // set once the WebAssembly verifier has loaded

const $ = (id) => document.getElementById(id);

function setStatus(state, text) {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

function formatBytes(n) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

async function loadVerifier() {
  const go = new Go();
  const wasm = await WebAssembly.instantiateStreaming(fetch('custody-verify.wasm'), go.importObject);
  go.run(wasm.instance); // registers verifyBundle and verifyBundleEvidence, then waits
}

function choose(inputID, file) {
  chosen[inputID] = file || null;
  const zone = document.querySelector('[data-input="' + inputID + '"]');
  zone.classList.toggle('chosen', !!file);
  zone.querySelector('.file').textContent = file ? file.name + ' (' + formatBytes(file.size) + ')' : '';
  $('verify').disabled = !(ready && chosen['bundle-file'] && chosen['trust-root-file']);
}

async function readLimited(file, limit, what) {
  if (file.size > limit) {
    throw new Error(what + ' ' + file.name + ' is ' + formatBytes(file.size) + ', more than the ' + formatBytes(limit) + ' allowed');
  }
  return new Uint8Array(await file.arrayBuffer());
}

function progress() {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    setStatus('hashing', 'Hashing the evidence file: ' + formatBytes(done) + ' of ' + formatBytes(total));
  };
}

async function verify() {
  $('verify').disabled = true;
  setStatus('verifying', 'Verifying…');
  try {
    const bundle = await readLimited(chosen['bundle-file'], MAX_BUNDLE, 'The bundle');
    const trustRoot = await readLimited(chosen['trust-root-file'], MAX_TRUST_ROOT, 'The trust root');
    const options = { bundleName: chosen['bundle-file'].name, trustRootName: chosen['trust-root-file'].name, onProgress: progress() };
    const evidence = chosen['evidence-file'];
    const result = evidence
      ? await verifyBundleEvidence(bundle, trustRoot, evidence, options)
      : verifyBundle(bundle, trustRoot, options);
    show(result);
    setStatus(result.verified ? 'verified' : 'failed', 'Done.');
  } catch (e) {
    show({ verified: false, error: String(e && e.message || e), html: '' });
    setStatus('failed', 'Done.');
  } finally {
    $('verify').disabled = false;
  }
}

function show(result) {
  const v = $('verdict');
  v.className = result.verified ? 'ok' : 'bad';
  v.dataset.result = result.verified ? 'verified' : 'failed';
  v.textContent = result.verified ? '✓ VERIFIED' : '✗ FAILED';
  const small = document.createElement('small');
  small.textContent = result.verified
    ? result.report.events.length + ' custody events verified' + (result.report.content_checked ? '; the evidence file matches' : '; evidence file not checked')
    : result.error;
  v.appendChild(small);
  lastHTML = result.html;
  const frame = $('report');
  frame.classList.toggle('shown', !!lastHTML);
  frame.srcdoc = lastHTML;
  $('save').disabled = $('print').disabled = !lastHTML;
}

function fitFrame() {
  const frame = $('report');
  const doc = frame.contentDocument;
  if (doc && doc.documentElement) {
    frame.style.height = (doc.documentElement.scrollHeight + 20) + 'px';
  }
}

function save() {
  const url = URL.createObjectURL(new Blob([lastHTML], { type: 'text/html' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'custody-report.html';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function wireZone(zone) {
  const input = $(zone.dataset.input);
  input.addEventListener('change', () => choose(input.id, input.files[0]));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    choose(input.id, e.dataTransfer.files[0]);
  });
}

document.querySelectorAll('.zone').forEach(wireZone);
// A file dropped outside a zone must not replace the page.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());
$('verify').addEventListener('click', verify);
$('save').addEventListener('click', save);
$('print').addEventListener('click', () => $('report').contentWindow.print());
$('report').addEventListener('load', fitFrame);

loadVerifier().then(() => {
  ready = true;
  setStatus('ready', 'Ready: choose the bundle and the trust root.');
  choose('bundle-file', chosen['bundle-file']);
}, (e) => setStatus('error', 'The verifier could not be loaded: ' + e));
