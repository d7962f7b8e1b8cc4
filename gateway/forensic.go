package gateway

import (
	"net/url"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// acquisitionOf reads the forensic metadata of an upload from its query parameters
// (docs/api.md, "Forensic metadata"): nil when there is none. A malformed parameter is
// a 400 decided from the request head, before a byte of the body is read; bounds and
// the free-text rules are checked by the use case, also before it reads the body.
func acquisitionOf(q url.Values) (*custody.Acquisition, error) {
	a, err := api.ParseAcquisitionQuery(q)
	if err != nil {
		return nil, malformed("%v", err)
	}
	return a, nil
}

// acquisitionOfMetadata reads the forensic metadata of a resumable upload from its
// Upload-Metadata: the same keys as the query parameters of a single-request upload.
// tus keeps one value per key, so a key given twice cannot be told apart here: tusd
// keeps the last.
func acquisitionOfMetadata(meta map[string]string) (*custody.Acquisition, error) {
	q := url.Values{}
	for _, k := range api.AcquisitionParams {
		if v, ok := meta[k]; ok {
			q.Set(k, v)
		}
	}
	return acquisitionOf(q)
}
