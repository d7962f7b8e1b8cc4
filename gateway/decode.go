package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads a bounded JSON body with no unknown fields into v. An empty body is
// an error unless optional is set (v then keeps its zero value).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return err
		case errors.Is(err, io.EOF) && optional:
			return nil
		case errors.Is(err, io.EOF):
			return malformed("a JSON body is required")
		}
		return malformed("malformed JSON body: %v", err)
	}
	if dec.More() {
		return malformed("malformed JSON body: trailing data")
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
