// Command custody-verify-wasm is the court's verifier compiled to WebAssembly for the
// browser page in web/: it runs custody.Verify on a bundle and a trust root the user
// picks, entirely inside the page, and returns the HTML report. Build it with web/build.
// Like cmd/custody-verify it imports only custody, internal/report, internal/verifycmd and
// the standard library (syscall/js): no network client.
//
// It registers two JavaScript functions on the global object:
//
//	verifyBundle(bundle, trustRoot, options?) -> {verified, html, error, report}
//	verifyBundleEvidence(bundle, trustRoot, evidenceFile, options?) -> Promise of the same
//
// bundle and trustRoot are the files' contents, as strings or Uint8Arrays. evidenceFile is
// a Blob (a File from an <input type=file> or a drop), read as a stream and hashed as it is
// read, so its size is bounded by time, not memory. options may name the files
// ({bundleName, trustRootName}) for the report and give onProgress(bytesHashed, total).
// verified is true only if every check passed; error is the reason it failed; html is
// the report of internal/report; report is the JSON report of `custody-verify --json`.
//
// On any platform other than js/wasm this package builds to a stub that says so.
package main
