package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/api"
)

// Retention of the disposal tests on the real stack. S3 keeps a retain-until date per
// object version to the second (only a bucket's default retention counts in days), so
// the tests give every object written a floor of a few seconds and the case a short
// period, and wait, in real time, for them to end: MinIO decides with its own clock.
const (
	disposalFloor     = "2s"
	disposalRetention = 8 * time.Second
)

// disposalStack starts a gateway on the real stack whose objects are retained for
// disposalFloor when written and whose cases for disposalRetention.
func disposalStack(t *testing.T) (*gateway, stackConfig) {
	t.Helper()
	base, cfg := loadStackConfig(t)
	floor := strings.Replace(base, "retention_days: 1\n", "retention: "+disposalFloor+"\n", 1)
	if floor == base {
		t.Fatalf("the stack's configuration has no \"retention_days: 1\" to shorten:\n%s", base)
	}
	return startGatewayWith(t, "", floor+"retention:\n  default: "+disposalRetention.String()+"\n"), cfg
}

// objectVersion is one stored version of an object, read straight from MinIO.
type objectVersion struct {
	bucket, key, version string
	data                 []byte
}

// exhibitObjects reads every version of every object of an exhibit in its
// jurisdiction's bucket (content and data keys) and in the custody bucket (events),
// straight from MinIO with the gateway's credentials.
func exhibitObjects(t *testing.T, mc *minio.Client, cfg stackConfig, id string) (content, custodyRecords []objectVersion) {
	t.Helper()
	sc := cfg.Backends.Storage
	for _, where := range []struct {
		bucket, prefix string
		out            *[]objectVersion
	}{
		{sc.Buckets["NL"], "content/NL/" + id + "/", &content},
		{sc.CustodyBucket, "evidence/" + id + "/", &custodyRecords},
	} {
		for obj := range mc.ListObjects(t.Context(), where.bucket, minio.ListObjectsOptions{Prefix: where.prefix, Recursive: true, WithVersions: true}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			v := objectVersion{bucket: where.bucket, key: obj.Key, version: obj.VersionID}
			if !obj.IsDeleteMarker {
				o, err := mc.GetObject(t.Context(), where.bucket, obj.Key, minio.GetObjectOptions{VersionID: obj.VersionID})
				if err != nil {
					t.Fatal(err)
				}
				if v.data, err = io.ReadAll(o); err != nil {
					t.Fatal(err)
				}
				o.Close()
			}
			*where.out = append(*where.out, v)
		}
	}
	return content, custodyRecords
}

// TestRealStackDisposal takes an exhibit with forensic metadata through its retention
// on MinIO, Vault and Trillian: disposal refused inside the retention and under legal
// hold (which covers content, data key and custody records in MinIO), allowed after;
// then no version of its content or data key remains in MinIO, the download is refused,
// and the court's bundle verifies offline and shows the disposal.
func TestRealStackDisposal(t *testing.T) {
	g, cfg := disposalStack(t)
	mc := minioClient(t, cfg)
	file, _ := writeRandomFile(t, 3<<20)
	md5 := strings.Repeat("9e", 16)
	out := g.must("investigator-nl", "upload", "--case", "CASE-DISPOSE", "--json", "--exhibit-number", "NL-0042-EX3",
		"--md5", md5, "--tool", "Guymager", "--tool-version", "0.8.13", "--examiner", "J. de Vries",
		"--seized-at", "2026-03-01T06:30:00Z", "--seized-place", "Rotterdam", "--notes", "write blocker used", file)
	var up struct {
		api.EvidenceView
	}
	if err := json.Unmarshal([]byte(out), &up); err != nil {
		t.Fatal(err)
	}
	id := up.EvidenceID
	if a := up.Acquisition; a == nil || a.ExhibitNumber != "NL-0042-EX3" || a.SourceHashes["md5"] != md5 || up.RetainUntil == nil {
		t.Fatalf("upload answer: acquisition %+v, retain until %v", up.Acquisition, up.RetainUntil)
	}

	// The content and its data key are retained in MinIO until the case's retention ends.
	content, _ := exhibitObjects(t, mc, cfg, id)
	if len(content) != 2 {
		t.Fatalf("MinIO holds %d versions of %s's content and data key, want 2", len(content), id)
	}
	for _, v := range content {
		_, until, err := mc.GetObjectRetention(t.Context(), v.bucket, v.key, v.version)
		if err != nil || until == nil || until.Before(up.RetainUntil.Add(-time.Second)) {
			t.Errorf("MinIO retains %s until %v (%v), want the register event's %s", v.key, until, err, up.RetainUntil)
		}
	}

	g.fails("investigator-nl", exitFailed, "(HTTP 409)", "dispose", id, "--authority", "retention schedule")
	g.fails("investigator-nl", exitFailed, "retained until", "dispose", id, "--authority", "retention schedule")
	g.fails("partner-us", exitFailed, "(HTTP 404)", "dispose", id, "--authority", "retention schedule")

	// Under legal hold every object of the exhibit is held in MinIO; a disposal is
	// refused even after the retention.
	g.must("investigator-nl", "hold", id, "--reason", "appeal pending")
	content, records := exhibitObjects(t, mc, cfg, id)
	for _, v := range append(content, records...) {
		if on, err := mc.GetObjectLegalHold(t.Context(), v.bucket, v.key, minio.GetObjectLegalHoldOptions{VersionID: v.version}); err != nil || *on != minio.LegalHoldEnabled {
			t.Errorf("under legal hold, MinIO holds %s/%s: %v (%v)", v.bucket, v.key, on, err)
		}
	}
	time.Sleep(time.Until(*up.RetainUntil) + 2*time.Second)
	g.fails("investigator-nl", exitFailed, "under legal hold", "dispose", id, "--authority", "retention schedule")
	g.must("investigator-nl", "release", id, "--reason", "appeal decided")

	const authority = "order of the Rotterdam District Court, 2036/17"
	var res api.DisposalResult
	if err := json.Unmarshal([]byte(g.must("investigator-nl", "dispose", id, "--authority", authority, "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if !res.ContentDestroyed || res.DataKeysDestroyed != 1 || res.Custody.Action != "dispose" {
		t.Errorf("dispose answered %+v, want the content and one data key destroyed", res)
	}
	content, records = exhibitObjects(t, mc, cfg, id)
	if len(content) != 0 {
		t.Errorf("after the disposal MinIO still holds, with every version and delete marker listed: %v", keysOf(content))
	}
	if len(records) == 0 {
		t.Error("after the disposal no custody record remains")
	}
	g.fails("investigator-nl", exitFailed, "disposed of", "download", id, "-o", filepath.Join(t.TempDir(), "x"))
	if show := g.must("investigator-nl", "show", id); !strings.Contains(show, "Disposed of") || !strings.Contains(show, authority) {
		t.Errorf("show after the disposal:\n%s", show)
	}
	if e, ok := caseListing(t, g, "investigator-nl", "CASE-DISPOSE", id); !ok || !e.Disposed || e.ExhibitNumber != "NL-0042-EX3" {
		t.Errorf("the catalog lists %s as %+v (listed: %t), want it disposed of, with its exhibit number", id, e, ok)
	}

	dir := t.TempDir()
	bundle, trust := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "trust-root.json")
	g.must("investigator-nl", "bundle", id, "-o", bundle)
	g.must("investigator-nl", "trust-root", "-o", trust)
	report := g.must("", "verify", bundle, "--trust-root", trust, "--html", filepath.Join(dir, "report.html"))
	for _, w := range []string{"DISPOSED", authority, "Exhibit number  NL-0042-EX3", "Source MD5      " + md5, "VERIFIED"} {
		if !strings.Contains(report, w) {
			t.Errorf("the court's report lacks %q:\n%s", w, report)
		}
	}
	if html, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !bytes.Contains(html, []byte(`id="disposal"`)) {
		t.Errorf("the HTML report shows no disposal (%v)", err)
	}
	// The registration, whose act names the forensic metadata the event records, and
	// the disposal, whose act names its authority, are the investigator's own acts.
	checkSignedBy(t, g.must("", "verify", bundle, "--trust-root", trust, "--json"),
		map[string]string{"register": "investigator-nl", "dispose": "investigator-nl"})
}

func keysOf(vs []objectVersion) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.key+"@"+v.version)
	}
	return out
}

// caseListing finds exhibit id in the listing of a case as who sees it, page after
// page (the real stack's catalog keeps the exhibits of earlier runs).
func caseListing(t *testing.T, g *gateway, who, caseID, id string) (api.ExhibitListing, bool) {
	t.Helper()
	cursor := ""
	for {
		args := []string{"case", caseID, "--json", "--limit", "500"}
		if cursor != "" {
			args = append(args, "--cursor", cursor)
		}
		var page struct {
			ExhibitList []api.ExhibitListing `json:"exhibit_list"`
			Next        string               `json:"next"`
		}
		if err := json.Unmarshal([]byte(g.must(who, args...)), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.ExhibitList {
			if e.EvidenceID == id {
				return e, true
			}
		}
		if page.Next == "" {
			return api.ExhibitListing{}, false
		}
		cursor = page.Next
	}
}
