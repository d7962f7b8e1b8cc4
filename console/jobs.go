package console

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
)

// Bounds of the transfers the console runs.
const (
	// maxRunning is how many transfers run with the gateway at once; more wait.
	maxRunning = 4
	// maxJobs bounds the transfers the console remembers; the oldest finished one is
	// forgotten (and its file removed) to make room.
	maxJobs = 256
	// maxNameLen bounds the file name the browser gives an upload (shown, not sent).
	maxNameLen = 255
	// maxUploadQuery bounds an upload's query: the forensic metadata's notes alone
	// may be 4 KiB, percent-encoded up to three times that.
	maxUploadQuery = 24 << 10
)

// Job states.
const (
	stateWaiting = "waiting"
	stateRunning = "running"
	stateDone    = "done"
	stateFailed  = "failed"
)

// jobView is what GET /console/jobs/{job} answers (docs/console.md).
type jobView struct {
	ID         string       `json:"id"`
	Kind       string       `json:"kind"`
	Name       string       `json:"name,omitempty"`
	EvidenceID string       `json:"evidence_id,omitempty"`
	State      string       `json:"state"`
	Phase      string       `json:"phase,omitempty"`
	Done       int64        `json:"done"`
	Total      int64        `json:"total"`
	Result     any          `json:"result,omitempty"`
	Problem    *api.Problem `json:"problem,omitempty"`
	// Warning: a download verified and in place whose signed receipt was not recorded.
	Warning string `json:"warning,omitempty"`
}

// downloadResult is the result of a download job.
type downloadResult struct {
	EvidenceID string              `json:"evidence_id"`
	SHA256     string              `json:"sha256"`
	Size       int64               `json:"size"`
	Verified   bool                `json:"verified"`
	Custody    *api.CustodyReceipt `json:"custody,omitempty"`
	Received   *api.CustodyReceipt `json:"received,omitempty"`
	File       string              `json:"file"`
}

type job struct {
	mu   sync.Mutex
	view jobView
	path string // the spooled upload or the verified download
	seq  int
}

func (j *job) snapshot() jobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.view
}

func (j *job) update(f func(v *jobView)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f(&j.view)
}

// progress is the client's ProgressFunc for j.
func (j *job) progress(phase string, done, total int64) {
	j.update(func(v *jobView) { v.Phase, v.Done, v.Total = phase, done, total })
}

// jobs are the uploads and downloads the console runs with the gateway for the page.
type jobs struct {
	c    *Console
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	byID map[string]*job
	seq  int
}

func newJobs(c *Console) *jobs {
	return &jobs{c: c, sem: make(chan struct{}, maxRunning), byID: map[string]*job{}}
}

// add registers a new job, forgetting the oldest finished one if there are too many.
func (js *jobs) add(v jobView) (*job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if len(js.byID) >= maxJobs {
		var oldest *job
		for _, j := range js.byID {
			if s := j.snapshot().State; (s == stateDone || s == stateFailed) && (oldest == nil || j.seq < oldest.seq) {
				oldest = j
			}
		}
		if oldest == nil {
			return nil, errors.New("too many transfers under way")
		}
		delete(js.byID, oldest.view.ID)
		if oldest.path != "" {
			os.RemoveAll(filepath.Dir(oldest.path))
		}
	}
	js.seq++
	v.ID = "job-" + rand.Text()[:16]
	v.State = stateWaiting
	j := &job{view: v, seq: js.seq}
	js.byID[v.ID] = j
	return j, nil
}

func (js *jobs) get(id string) *job {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.byID[id]
}

// run runs work for j in the background, at most maxRunning at once, until the console
// closes.
func (js *jobs) run(j *job, work func(ctx context.Context) error) {
	js.wg.Add(1)
	go func() {
		defer js.wg.Done()
		ctx := js.c.ctx
		select {
		case js.sem <- struct{}{}:
			defer func() { <-js.sem }()
		case <-ctx.Done():
			j.update(func(v *jobView) { v.State, v.Problem = stateFailed, problemOf(ctx.Err()) })
			return
		}
		j.update(func(v *jobView) { v.State = stateRunning })
		if err := work(ctx); err != nil {
			js.c.log.InfoContext(ctx, "console transfer failed", "job", j.view.ID, "kind", j.view.Kind, "error", err)
			j.update(func(v *jobView) { v.State, v.Problem = stateFailed, problemOf(err) })
			return
		}
		j.update(func(v *jobView) { v.State = stateDone })
	}()
}

// wait waits for the jobs to end (the console's context is cancelled).
func (js *jobs) wait() { js.wg.Wait() }

// startUpload takes a file from the page (the request body, raw) into the working
// directory, then uploads it to the gateway in the background: resumably (tus), the
// register act signed with the member's key. Query: case_id, description, name, and
// the forensic metadata of the exhibit under the parameter names of POST /v1/evidence
// (api.AcquisitionParams), which go with the upload's creation.
func (js *jobs) startUpload(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > maxUploadQuery {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("query longer than %d bytes", maxUploadQuery)))
		return
	}
	q := r.URL.Query()
	caseID, desc, name := q.Get("case_id"), q.Get("description"), q.Get("name")
	acq, acqErr := api.ParseAcquisitionQuery(q)
	switch {
	case acqErr != nil:
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, "the forensic metadata: "+acqErr.Error()))
		return
	case !custody.ValidCaseID(caseID):
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("%q is not a case id: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", caseID)))
		return
	case len(name) > maxNameLen:
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, "the file name is too long"))
		return
	case r.ContentLength < 0:
		writeProblem(w, consoleProblem(problemInvalid, http.StatusLengthRequired, "the upload must say its length"))
		return
	case r.ContentLength > js.c.cfg.MaxUploadSize:
		writeProblem(w, consoleProblem(problemInvalid, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than the %d bytes the console takes", js.c.cfg.MaxUploadSize)))
		return
	}
	j, err := js.add(jobView{Kind: "upload", Name: name, Total: r.ContentLength})
	if err != nil {
		writeProblem(w, consoleProblem(problemJobs, http.StatusTooManyRequests, err.Error()))
		return
	}
	f, err := js.spool(j, r)
	if err != nil {
		j.update(func(v *jobView) {
			v.State, v.Problem = stateFailed, consoleProblem(problemInvalid, http.StatusBadRequest, err.Error())
		})
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, err.Error()))
		return
	}
	size := r.ContentLength
	js.run(j, func(ctx context.Context) error {
		defer func() { f.Close(); os.RemoveAll(filepath.Dir(j.path)) }()
		res, err := js.c.cfg.Client.UploadResumable(ctx, client.ResumableUpload{CaseID: caseID, Description: desc,
			Acquisition: acq, Content: f, Size: size, Progress: j.progress})
		if err != nil {
			return err
		}
		j.update(func(v *jobView) { v.Result, v.EvidenceID = res, res.Evidence.EvidenceID })
		return nil
	})
	writeJSON(w, http.StatusAccepted, j.snapshot())
}

// spool writes the request body into a private file of the job, which must hold
// exactly Content-Length bytes.
func (js *jobs) spool(j *job, r *http.Request) (*os.File, error) {
	dir, err := os.MkdirTemp(js.c.work, j.view.ID+"-")
	if err != nil {
		return nil, fmt.Errorf("keeping the file: %w", err)
	}
	j.path = filepath.Join(dir, "upload")
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keeping the file: %w", err)
	}
	j.progress("receiving", 0, r.ContentLength)
	pw := &progressCounter{w: f, j: j, total: r.ContentLength}
	n, err := io.Copy(pw, io.LimitReader(r.Body, r.ContentLength))
	if err == nil && n != r.ContentLength {
		err = fmt.Errorf("the browser sent %d of the file's %d bytes", n, r.ContentLength)
	}
	if err != nil {
		f.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("receiving the file from the browser: %w", err)
	}
	return f, nil
}

// progressCounter reports the bytes written through it as the job's progress.
type progressCounter struct {
	w     io.Writer
	j     *job
	done  int64
	total int64
}

func (p *progressCounter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.j.progress("receiving", p.done, p.total)
	return n, err
}

// startDownload downloads evidence in the background into the working directory with
// the client library, which checks the bytes against the registered SHA-256 before it
// keeps them and then sends the member's signed receipt. Body: {"evidence_id"}.
func (js *jobs) startDownload(w http.ResponseWriter, r *http.Request) {
	var req struct {
		EvidenceID string `json:"evidence_id"`
	}
	if !decodeBody(w, r, &req, false) {
		return
	}
	if !custody.ValidEvidenceID(req.EvidenceID) {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("%q is not an evidence id (ev- and 26 letters a-z or digits 2-7)", req.EvidenceID)))
		return
	}
	j, err := js.add(jobView{Kind: "download", EvidenceID: req.EvidenceID})
	if err != nil {
		writeProblem(w, consoleProblem(problemJobs, http.StatusTooManyRequests, err.Error()))
		return
	}
	dir, err := os.MkdirTemp(js.c.work, j.view.ID+"-")
	if err != nil {
		writeProblem(w, problemOf(err))
		return
	}
	j.path = filepath.Join(dir, req.EvidenceID)
	js.run(j, func(ctx context.Context) error {
		res, err := js.c.cfg.Client.Download(ctx, req.EvidenceID, j.path, client.DownloadOptions{}, j.progress)
		var receiptErr *client.ReceiptError
		if err != nil && !errors.As(err, &receiptErr) {
			return err
		}
		j.update(func(v *jobView) {
			v.Result = downloadResult{EvidenceID: req.EvidenceID, SHA256: res.SHA256, Size: res.Size, Verified: true,
				Custody: res.Custody, Received: res.Received, File: "/console/jobs/" + v.ID + "/file"}
			if receiptErr != nil {
				v.Warning = receiptErr.Error()
			}
		})
		return nil
	})
	writeJSON(w, http.StatusAccepted, j.snapshot())
}

// show answers a job's state.
func (js *jobs) show(w http.ResponseWriter, r *http.Request) {
	j := js.get(r.PathValue("job"))
	if j == nil {
		writeProblem(w, consoleProblem(problemNotProxied, http.StatusNotFound, "no such transfer"))
		return
	}
	writeJSON(w, http.StatusOK, j.snapshot())
}

// serveFile serves the verified file of a finished download job, as an attachment.
func (js *jobs) serveFile(w http.ResponseWriter, r *http.Request) {
	j := js.get(r.PathValue("job"))
	if j == nil || j.view.Kind != "download" || j.snapshot().State != stateDone {
		writeProblem(w, consoleProblem(problemNotProxied, http.StatusNotFound, "no verified download of that transfer"))
		return
	}
	f, err := os.Open(j.path)
	if err != nil {
		writeProblem(w, problemOf(err))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", api.ContentMediaType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": j.view.EvidenceID}))
	http.ServeContent(w, r, "", time.Time{}, f)
}
