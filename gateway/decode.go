package gateway

import (
	"bytes"
	"fmt"

	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads a bounded JSON body into v, strictly: a member v does not define, two
// members of one name, a name that matches a field only when case is ignored, invalid
// UTF-8 or trailing data are refused (encoding/json v2 semantics, with unknown members
// refused). An empty body is an error unless optional is set (v then keeps its zero
// value).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if r.ContentLength > maxJSONBody {
		return &http.MaxBytesError{Limit: maxJSONBody}
	}
	b, err := io.ReadAll(requestBody{http.MaxBytesReader(w, r.Body, maxJSONBody)})
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return fmt.Errorf("reading the JSON body: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return malformed("a JSON body is required")
	}
	if err := jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return malformed("malformed JSON body: %v", err)
	}
	return nil
}

// queryUint reads a required non-negative integer query parameter.
func queryUint(r *http.Request, name string) (uint64, error) {
	v, err := strconv.ParseUint(r.URL.Query().Get(name), 10, 64)
	if err != nil {
		return 0, malformed("query parameter %s must be a non-negative integer", name)
	}
	return v, nil
}

// maxSizes bounds the list of tree sizes one query parameter may carry.
const maxSizes = 64

// querySizes reads an optional comma-separated list of positive tree sizes.
func querySizes(r *http.Request, name string) ([]uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxSizes {
		return nil, malformed("at most %d sizes in %s", maxSizes, name)
	}
	sizes := make([]uint64, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || n == 0 {
			return nil, malformed("%s must list positive tree sizes", name)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// bodyError is a failure to read a request body, the client's doing (a body shorter
// than its Content-Length): the mapping tells it apart from the same error of a
// backend read, which is the gateway's.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// requestBody marks the read errors of a request body as *bodyError.
type requestBody struct{ r io.Reader }

func (b requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}
