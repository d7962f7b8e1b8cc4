package verifycmd

import (
	"bytes"
	"strings"
	"testing"
)

// TestCompletenessNotChecked: a bundle cut after its first events verifies, so the
// report must say that no one checked whether events were left out after it.
func TestCompletenessNotChecked(t *testing.T) {
	x := newTestExhibit(t)
	cut := cloneBundle(t, x.bundle)
	cut.Events = cut.Events[:2]
	x.writeBundle(t, cut)
	var out bytes.Buffer
	if err := Run(Options{BundlePath: x.bundlePath, TrustRootPath: x.trustRootPath}, &out); err != nil {
		t.Fatalf("the cut bundle does not verify: %v", err)
	}
	text := out.String()
	if !strings.Contains(text, "VERIFIED: 2 events") {
		t.Fatalf("report:\n%s\nwant VERIFIED: 2 events", text)
	}
	if !strings.Contains(text, "Completeness  not checked: events logged after the bundle's last one could have been left out") {
		t.Errorf("report:\n%s\nwant a line saying completeness was not checked", text)
	}
	out.Reset()
	if err := Run(Options{BundlePath: x.bundlePath, TrustRootPath: x.trustRootPath, JSON: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"completeness_checked": false`) {
		t.Errorf("JSON report:\n%s\nwant completeness_checked false", out.String())
	}
}
