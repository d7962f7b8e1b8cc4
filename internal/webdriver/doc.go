// Package webdriver drives Debian's headless Chromium for the browser tests of web/ and
// console/: a minimal W3C WebDriver client for chromedriver over plain HTTP (open a
// page, give files to file inputs, click, type, run a script, take a screenshot), and
// helpers to run Chromium directly and to check screenshots.
//
// It is a test helper: only _test.go files import it. A missing chromium or chromedriver
// skips the calling test, unless CI=true, where it fails it.
//
// It imports only the standard library.
package webdriver
