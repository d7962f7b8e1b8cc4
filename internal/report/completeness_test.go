package report_test

import (
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/internal/report/reporttest"
)

// TestReportSaysCompletenessNotChecked: without a log snapshot the report must not let a
// judge believe the bundle is complete.
func TestReportSaysCompletenessNotChecked(t *testing.T) {
	x := reporttest.New(t, reporttest.Story(reporttest.LegalBasis))
	got, verr := render(t, x, nil, nil)
	if verr != nil {
		t.Fatal(verr)
	}
	if !strings.Contains(got, "Not checked: the bundle alone cannot show that no later event was left out") {
		t.Errorf("the report does not say that completeness was not checked")
	}
}
