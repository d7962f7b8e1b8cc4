package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/minio/minio-go/v7"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
)

// resumableSteps are the steps of a resumable upload the gateway is killed at:
// exhibit.StepUploadStarted, the second exhibit.StepPartStored, StepUploadCompleted, the
// register steps, and the answers of the creation (answering:1), of the PATCH
// (answering:2) and of the registration (answering:3).
var resumableSteps = []string{"upload-started", "part-stored:2", "answering:1", "answering:2",
	"upload-completed", "datakey-stored", "event-stored", "logged", "indexed", "answering:3"}

// resumablePartConfig makes parts of 5 MiB, so the test's uploads have three, and
// an orphan grace of a millisecond, so the restart after a crash quarantines what it
// left (one gateway: no upload of another can be in flight).
const resumablePartConfig = "uploads:\n  part_mib: 5\n  orphan_grace: 1ms\n"

func TestResumableCrashSafety(t *testing.T) { resumableCrashSafety(t, "") }

func TestRealStackResumableCrashSafety(t *testing.T) {
	base, _ := loadStackConfig(t)
	resumableCrashSafety(t, freshJurisdictionBuckets(t, base))
}

// resumableCrashSafety kills the gateway at each step of a resumable upload while a
// client uploads, restarts it, and checks that the same client call (which retries
// after the cut) or, where the gateway died before answering the creation, a second
// call with the same state, registers the content exactly once, intact.
func resumableCrashSafety(t *testing.T, base string) {
	g := &crashGateway{gateway: startGatewayWith(t, "", base+resumablePartConfig)}
	g.stop()
	ctx := t.Context()
	for _, step := range resumableSteps {
		trPath := filepath.Join(t.TempDir(), "trust-root.json")
		content := make([]byte, 12<<20+321)
		rand.Read(content)
		state := &memState{}
		g.restart(step)
		upload := func(ctx context.Context) (*api.UploadResult, error) {
			return g.client("investigator-nl").UploadResumable(ctx, client.ResumableUpload{CaseID: "CASE-CRASH",
				Content: bytes.NewReader(content), Size: int64(len(content)), State: state,
				Retry: backoff.NewConstantBackOff(200 * time.Millisecond)})
		}
		type result struct {
			res *api.UploadResult
			err error
		}
		done := make(chan result, 1)
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		go func() { r, err := upload(callCtx); done <- result{r, err} }()
		g.awaitCrash(step)
		g.restart("")
		r := <-done
		cancel()
		if r.err != nil {
			// The creation's answer was lost: the client cannot know the upload; a
			// second run starts or continues one from its state.
			t.Logf("after a crash at %s the first call failed (%v); running it again", step, r.err)
			again, cancel := context.WithTimeout(ctx, 2*time.Minute)
			r.res, r.err = upload(again)
			cancel()
			if r.err != nil {
				t.Fatalf("after a crash at %s: the second call failed: %v\n%s", step, r.err, g.logs())
			}
		}
		id := r.res.Evidence.EvidenceID
		c := g.client("investigator-nl")
		cr, err := c.Content(ctx, id)
		if err != nil {
			t.Fatalf("after a crash at %s: downloading %s: %v", step, id, err)
		}
		got, err := io.ReadAll(cr.Body)
		cr.Body.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("after a crash at %s: %s downloads %d bytes (%v), not its content", step, id, len(got), err)
		}
		g.must("court-nl", "trust-root", "-o", trPath)
		b, err := c.Bundle(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := custody.Verify(b.Bundle, readTrustRoot(t, trPath), custody.VerifyOptions{Content: bytes.NewReader(content)}); err != nil {
			t.Errorf("after a crash at %s: the bundle of %s does not verify: %v", step, id, err)
		}
		if state.st != nil {
			t.Errorf("after a crash at %s: the upload state was kept after the registration", step)
		}
		g.stop()
	}
}

// memState is an UploadStateStore in memory: what a state file keeps between runs.
type memState struct{ st *client.UploadState }

func (m *memState) Load() (*client.UploadState, error) { return m.st, nil }
func (m *memState) Save(st client.UploadState) error   { m.st = &st; return nil }
func (m *memState) Clear() error                       { m.st = nil; return nil }

// freshJurisdictionBuckets returns the stack configuration base with new, empty
// buckets for the jurisdictions' content, removed (bypassing their governance
// retention) when t ends. The stack's shared content buckets hold every other test's
// exhibits, which the gateway's start-up sweep lists one by one: with fresh ones it
// starts in seconds. The custody bucket, the keys and the log stay the stack's.
func freshJurisdictionBuckets(t testing.TB, base string) string {
	t.Helper()
	cfg, err := parseStackConfig([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Backends.Storage
	mc, err := minio.New(sc.Endpoint, &minio.Options{Creds: credentialsFor(sc), Secure: sc.Secure})
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomHex(4)
	for j, bucket := range sc.Buckets {
		fresh := "evgw-upl-" + strings.ToLower(j) + "-" + suffix
		base = strings.Replace(base, j+": "+bucket+"\n", j+": "+fresh+"\n", 1)
		t.Cleanup(func() { removeBucket(mc, fresh) })
	}
	return base
}

// removeBucket removes every version in bucket, then the bucket.
func removeBucket(mc *minio.Client, bucket string) {
	ctx := context.Background()
	for obj := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if obj.Err == nil {
			mc.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{VersionID: obj.VersionID, GovernanceBypass: true})
		}
	}
	for up := range mc.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err == nil {
			mc.RemoveIncompleteUpload(ctx, bucket, up.Key)
		}
	}
	mc.RemoveBucket(ctx, bucket)
}
