// Package web holds the browser verifier: a static page (index.html, app.js) that runs
// cmd/custody-verify-wasm on files the user chooses, without sending them anywhere.
// Run ./build to compile custody-verify.wasm and copy wasm_exec.js beside the page, or
// ./build DIR to assemble the whole site in DIR.
//
// The package's tests drive Debian's Chromium headless (internal/webdriver): they render
// the HTML report of internal/report and take screenshots, and load the page, give it
// real bundles through its file inputs, and check that it shows VERIFIED or FAILED.
//
// It holds no Go code but its tests; the page loads nothing but its own files.
package web
