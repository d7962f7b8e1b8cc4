package api

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// The forensic metadata of an upload travels as query parameters of
// POST /v1/evidence, beside case_id and description (docs/api.md, "Forensic
// metadata"). Each is optional and may appear once.
const (
	ParamExhibitNumber = "exhibit_number"
	ParamSourceMD5     = "source_md5"
	ParamSourceSHA1    = "source_sha1"
	ParamSourceSHA256  = "source_sha256"
	ParamTool          = "tool"
	ParamToolVersion   = "tool_version"
	ParamExaminer      = "examiner"
	ParamSeizedAt      = "seized_at"
	ParamSeizedPlace   = "seized_place"
	ParamNotes         = "notes"
)

// AcquisitionParams are the names of every forensic metadata parameter: query
// parameters of a single-request upload, Upload-Metadata keys of a resumable one.
var AcquisitionParams = []string{ParamExhibitNumber, ParamSourceMD5, ParamSourceSHA1, ParamSourceSHA256,
	ParamTool, ParamToolVersion, ParamExaminer, ParamSeizedAt, ParamSeizedPlace, ParamNotes}

// sourceHashParams maps each source hash parameter to its algorithm in
// custody.Acquisition.SourceHashes.
var sourceHashParams = [...]struct{ param, algorithm string }{
	{ParamSourceMD5, "md5"}, {ParamSourceSHA1, "sha1"}, {ParamSourceSHA256, "sha256"},
}

// SetAcquisitionQuery adds the parameters of the acquisition facts a to q; nothing
// for an empty field. Times go in RFC 3339, UTC.
func SetAcquisitionQuery(q url.Values, a *custody.Acquisition) {
	if a == nil {
		return
	}
	for k, v := range map[string]string{ParamExhibitNumber: a.ExhibitNumber, ParamTool: a.Tool,
		ParamToolVersion: a.ToolVersion, ParamExaminer: a.Examiner, ParamSeizedPlace: a.SeizedPlace, ParamNotes: a.Notes} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for _, h := range sourceHashParams {
		if v := a.SourceHashes[h.algorithm]; v != "" {
			q.Set(h.param, v)
		}
	}
	if a.SeizedAt != nil {
		q.Set(ParamSeizedAt, a.SeizedAt.UTC().Format(time.RFC3339))
	}
}

// ParseAcquisitionQuery reads the acquisition facts of an upload's query parameters:
// nil when there is none. A parameter given twice is an error (two readers could keep
// either), and so is a seized_at that is not an RFC 3339 time. Source hashes are hex
// digests of their algorithm's length, in either case; they are returned in lowercase.
// The other fields are returned as sent: their bounds and the free-text rules are the
// use case's to check.
func ParseAcquisitionQuery(q url.Values) (*custody.Acquisition, error) {
	get := func(k string) (string, error) {
		if vs := q[k]; len(vs) > 1 {
			return "", fmt.Errorf("query parameter %s is given %d times", k, len(vs))
		} else if len(vs) == 1 {
			return vs[0], nil
		}
		return "", nil
	}
	var a custody.Acquisition
	var err error
	for _, f := range []struct {
		param string
		dst   *string
	}{{ParamExhibitNumber, &a.ExhibitNumber}, {ParamTool, &a.Tool}, {ParamToolVersion, &a.ToolVersion},
		{ParamExaminer, &a.Examiner}, {ParamSeizedPlace, &a.SeizedPlace}, {ParamNotes, &a.Notes}} {
		if *f.dst, err = get(f.param); err != nil {
			return nil, err
		}
	}
	for _, h := range sourceHashParams {
		v, err := get(h.param)
		if err != nil || v == "" {
			if err != nil {
				return nil, err
			}
			continue
		}
		v = strings.ToLower(v)
		if err := custody.CheckSourceHash(h.algorithm, v); err != nil {
			return nil, fmt.Errorf("query parameter %s: %w", h.param, err)
		}
		if a.SourceHashes == nil {
			a.SourceHashes = map[string]string{}
		}
		a.SourceHashes[h.algorithm] = v
	}
	v, err := get(ParamSeizedAt)
	if err != nil {
		return nil, err
	}
	if v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("query parameter %s is not an RFC 3339 time such as 2026-03-01T06:30:00Z", ParamSeizedAt)
		}
		t = t.UTC()
		a.SeizedAt = &t
	}
	if a.IsZero() {
		return nil, nil
	}
	return &a, nil
}

// AcquisitionAsSent returns a as the gateway reads it back from the query
// SetAcquisitionQuery encodes (the seizure time in whole seconds): the acquisition
// facts a member's register act names. A nil or empty a gives nil.
func AcquisitionAsSent(a *custody.Acquisition) *custody.Acquisition {
	q := url.Values{}
	SetAcquisitionQuery(q, a)
	got, err := ParseAcquisitionQuery(q)
	if err != nil || got.IsZero() {
		return nil
	}
	return got
}
