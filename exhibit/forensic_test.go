package exhibit_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

func acquisition(now time.Time) *custody.Acquisition {
	seized := now.Add(-48 * time.Hour).Truncate(time.Second).UTC()
	return &custody.Acquisition{ExhibitNumber: "NL-0042-EX3", Tool: "FTK Imager", ToolVersion: "4.7.1",
		Examiner: "J. de Vries", SeizedAt: &seized, SeizedPlace: "Rotterdam, Coolsingel 1", Notes: "write blocker Tableau T8u",
		SourceHashes: map[string]string{"md5": strings.Repeat("0a", 16), "sha1": strings.Repeat("1b", 20), "sha256": strings.Repeat("2c", 32)}}
}

// TestRegisterAcquisition: the forensic metadata of an upload is signed into the
// register event, shown with the evidence and carried by the bundle.
func TestRegisterAcquisition(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	content := []byte("disk image")
	u := exhibittest.Upload(content)
	u.Acquisition = acquisition(env.Clock.Now())
	res, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, u), u)
	if err != nil {
		t.Fatal(err)
	}
	if got := exhibittest.Event(t, res.Custody).Exhibit.Acquisition; !reflect.DeepEqual(got, u.Acquisition) {
		t.Errorf("register event acquisition = %+v, want %+v", got, u.Acquisition)
	}
	id := res.Evidence.EvidenceID
	if got := env.Show(t, env.Investigator, id).Acquisition; !reflect.DeepEqual(got, u.Acquisition) {
		t.Errorf("show: acquisition = %+v, want %+v", got, u.Acquisition)
	}
	r := env.VerifyBundle(t, env.Investigator, id, content)
	if got := r.Events[0].Event.Exhibit.Acquisition; !reflect.DeepEqual(got, u.Acquisition) {
		t.Errorf("verified bundle: acquisition = %+v, want %+v", got, u.Acquisition)
	}
}

// TestRegisterAcquisitionRefusals: forensic metadata is bounded and checked like every
// input; a refused upload stores nothing.
func TestRegisterAcquisitionRefusals(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	now := env.Clock.Now()
	tests := []struct {
		name string
		edit func(*custody.Acquisition)
	}{
		{"exhibit number too long", func(a *custody.Acquisition) { a.ExhibitNumber = strings.Repeat("x", 129) }},
		{"examiner with a line break", func(a *custody.Acquisition) { a.Examiner = "J.\nde Vries" }},
		{"notes with a bidi override", func(a *custody.Acquisition) { a.Notes = "abc\u202edef" }},
		{"notes too long", func(a *custody.Acquisition) { a.Notes = strings.Repeat("n", 4097) }},
		{"place not UTF-8", func(a *custody.Acquisition) { a.SeizedPlace = "\xff" }},
		{"tool version without a tool", func(a *custody.Acquisition) { a.Tool = "" }},
		{"md5 of the wrong length", func(a *custody.Acquisition) { a.SourceHashes["md5"] = "abc" }},
		{"sha1 in capitals", func(a *custody.Acquisition) { a.SourceHashes["sha1"] = strings.Repeat("AB", 20) }},
		{"unknown algorithm", func(a *custody.Acquisition) { a.SourceHashes["crc32"] = "00000000" }},
		{"seized in the future", func(a *custody.Acquisition) { t := now.Add(72 * time.Hour); a.SeizedAt = &t }},
		{"seized before 1970", func(a *custody.Acquisition) { t := time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC); a.SeizedAt = &t }},
	}
	for _, tt := range tests {
		u := exhibittest.Upload([]byte("x"))
		u.Acquisition = acquisition(now)
		tt.edit(u.Acquisition)
		_, err := env.Service.Register(t.Context(), exhibittest.RegisterAct(t, env.Investigator, u), u)
		checkErr(t, tt.name, err, invalidInput())
	}
	if names, err := env.Store.List(t.Context(), ""); err != nil || len(names) != 0 {
		t.Errorf("refused uploads stored %q, %v", names, err)
	}
}
