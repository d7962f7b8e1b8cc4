package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/api"
)

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		optional bool
		wantErr  bool
		tooBig   bool
	}{
		{name: "object", body: `{"reason":"closed"}`},
		{name: "object and a newline", body: "{\"reason\":\"closed\"}\n"},
		{name: "empty optional", body: "", optional: true},
		{name: "empty required", body: "", wantErr: true},
		{name: "whitespace only, optional", body: " \n", optional: true},
		{name: "null", body: "null"},
		{name: "unknown field", body: `{"reason":"x","why":"y"}`, wantErr: true},
		{name: "trailing object", body: `{"reason":"x"}{}`, wantErr: true},
		{name: "trailing garbage", body: `{"reason":"x"} x`, wantErr: true},
		{name: "cut short", body: `{"reason":"x`, wantErr: true},
		{name: "wrong type", body: `{"reason":1}`, wantErr: true},
		{name: "array", body: `[]`, wantErr: true},
		{name: "at the limit", body: `{"reason":"` + strings.Repeat("x", maxJSONBody-13) + `"}`},
		{name: "over the limit", body: `{"reason":"` + strings.Repeat("x", maxJSONBody) + `"}`, wantErr: true, tooBig: true},
	}
	for _, tt := range tests {
		var v api.HoldRequest
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(tt.body))
		err := decodeJSON(httptest.NewRecorder(), r, &v, tt.optional)
		var tooBig *http.MaxBytesError
		var br *badRequest
		switch {
		case (err != nil) != tt.wantErr:
			t.Errorf("%s: got error %v, want error %v", tt.name, err, tt.wantErr)
		case tt.tooBig && !errors.As(err, &tooBig):
			t.Errorf("%s: got %v, want an *http.MaxBytesError", tt.name, err)
		case tt.wantErr && !tt.tooBig && !errors.As(err, &br):
			t.Errorf("%s: got %T, want a *badRequest", tt.name, err)
		}
	}
}

func TestQuerySizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query   string
		want    []uint64
		wantErr bool
	}{
		{"", nil, false},
		{"1", []uint64{1}, false},
		{"3,1,3", []uint64{3, 1, 3}, false},
		{strings.Repeat("1,", 63) + "1", slices.Repeat([]uint64{1}, 64), false},
		{strings.Repeat("1,", 64) + "1", nil, true},
		{"0", nil, true},
		{"-1", nil, true},
		{"1,,2", nil, true},
		{"1,", nil, true},
		{" 1", nil, true},
		{"0x10", nil, true},
		{"18446744073709551616", nil, true},
	}
	for _, tt := range tests {
		got, err := querySizes(sizesRequest(t, tt.query), "consistency_from")
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("querySizes(%q) = %v, %v; want %v, error %v", tt.query, got, err, tt.want, tt.wantErr)
		}
	}
}

func sizesRequest(t testing.TB, v string) *http.Request {
	return httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/?consistency_from="+url.QueryEscape(v), nil)
}

// FuzzQuerySizes: whatever a client sends, querySizes either refuses it or returns
// at most 64 positive sizes that read back the same.
func FuzzQuerySizes(f *testing.F) {
	for _, s := range []string{"", "1", "1,2,3", "0", "1,,2", "-5", "99999999999999999999", strings.Repeat("7,", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := querySizes(sizesRequest(t, v), "consistency_from")
		if err != nil {
			return
		}
		if len(got) > maxSizes || slices.Contains(got, 0) {
			t.Fatalf("querySizes(%q) = %v: too many sizes or a zero", v, got)
		}
		parts := make([]string, len(got))
		for i, n := range got {
			parts[i] = strconv.FormatUint(n, 10)
		}
		again, err := querySizes(sizesRequest(t, strings.Join(parts, ",")), "consistency_from")
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("querySizes(%q) = %v does not read back: %v, %v", v, got, again, err)
		}
	})
}

// FuzzDecodeJSON: a body is either refused as a client error or decodes within the
// limit.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{"", `{"to":"agency-us","legal_basis":"x","expires":"2026-12-31T23:59:59Z"}`, `{}{}`, `{"max_downloads":-1}`, `null`, `{"to":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v api.ShareRequest
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(string(body)))
		err := decodeJSON(httptest.NewRecorder(), r, &v, false)
		var tooBig *http.MaxBytesError
		var br *badRequest
		switch {
		case err == nil && len(body) > maxJSONBody:
			t.Fatalf("a body of %d bytes decoded past the %d-byte limit", len(body), maxJSONBody)
		case err != nil && !errors.As(err, &tooBig) && !errors.As(err, &br):
			t.Fatalf("got %T %v, want a client error", err, err)
		}
	})
}

// TestDecodeJSONStrict: what two readers could read two ways is refused.
func TestDecodeJSONStrict(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"duplicate member", `{"to":"agency-us","to":"court-nl"}`, `duplicate object member name "to"`},
		{"case-variant member", `{"To":"agency-us"}`, `unknown object member name "To"`},
		{"invalid UTF-8", "{\"legal_basis\":\"a\xffb\"}", "invalid UTF-8"},
		{"trailing data", `{"to":"agency-us"} {}`, "after top-level value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var req api.ShareRequest
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			err := decodeJSON(httptest.NewRecorder(), r, &req, false)
			var br *badRequest
			if !errors.As(err, &br) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decodeJSON(%s) = %v, want a bad request mentioning %s", tt.body, err, tt.want)
			}
		})
	}
}
