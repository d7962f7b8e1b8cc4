package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestParseDigest(t *testing.T) {
	sum := sha256.Sum256([]byte("hello"))
	b64 := "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
	tests := []struct {
		field   string
		wantErr bool
		noSHA   bool
	}{
		{field: "sha-256=:" + b64 + ":"},
		{field: "sha-512=:AAAA:, sha-256=:" + b64 + ":"},
		{field: "  sha-256=:" + b64 + ":;param=1 "},
		{field: "sha-512=:AAAA:;a=1, sha-256=:" + b64 + ":, x=\"a, b\""},
		// An escaped quote does not end a string: the comma after it is in the string.
		{field: "sha-256=:" + b64 + ":, x=\"a\\\", b\""},
		{field: "sha-256 = :" + b64 + ":", wantErr: true},
		{field: "sha-256=:" + b64 + ":, sha-256=:" + b64 + ":", wantErr: true},
		{field: "sha-256=:" + b64 + ":, sha-256=:AAAA:", wantErr: true},
		{field: "sha-256=:AAAA:, sha-256=:" + b64 + ":", wantErr: true},
		{field: "sha-256=:" + b64 + ":,", wantErr: true},
		{field: "sha-256=(:" + b64 + ":)", wantErr: true},
		{field: "sha-256=?1", wantErr: true},
		{field: "", noSHA: true},
		{field: "sha-512=:AAAA:", noSHA: true},
		{field: "sha-256=" + b64, wantErr: true},
		{field: "sha-256=:AAAA:", wantErr: true},
		{field: "sha-256=:not base64!:", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDigest(tt.field)
		switch {
		case tt.noSHA:
			if !errors.Is(err, ErrNoSHA256) {
				t.Errorf("ParseDigest(%q) error %v, want ErrNoSHA256", tt.field, err)
			}
		case tt.wantErr:
			if err == nil || errors.Is(err, ErrNoSHA256) {
				t.Errorf("ParseDigest(%q) error %v, want a malformed-digest error", tt.field, err)
			}
		case err != nil || !bytes.Equal(got, sum[:]):
			t.Errorf("ParseDigest(%q) = %x, %v; want %x", tt.field, got, err, sum)
		}
	}
	// Two field lines are one field (RFC 9110 5.3): a sha-256 member in each is two.
	if _, err := ParseDigest("sha-256=:"+b64+":", "sha-256=:"+b64+":"); err == nil {
		t.Errorf("ParseDigest of two field lines with a sha-256 member each: no error")
	}
	if got, err := ParseDigest("sha-512=:AAAA:", "sha-256=:"+b64+":"); err != nil || !bytes.Equal(got, sum[:]) {
		t.Errorf("ParseDigest of two field lines = %x, %v; want %x", got, err, sum)
	}
	if got := FormatDigest(sum[:]); got != "sha-256=:"+b64+":" {
		t.Errorf("FormatDigest = %q, want sha-256=:%s:", got, b64)
	}
}

func FuzzParseDigest(f *testing.F) {
	sum := sha256.Sum256(nil)
	f.Add(FormatDigest(sum[:]))
	f.Add("sha-512=:AAAA:, sha-256=:AAAA:")
	f.Add("sha-256=::")
	f.Fuzz(func(t *testing.T, field string) {
		got, err := ParseDigest(field)
		if err == nil && len(got) != sha256.Size {
			t.Fatalf("ParseDigest(%q) = %d bytes without error", field, len(got))
		}
		if err == nil {
			if again, err := ParseDigest(FormatDigest(got)); err != nil || !bytes.Equal(again, got) {
				t.Fatalf("round trip of %x: %x, %v", got, again, err)
			}
		}
	})
}

func TestCustodyEventRoundTrip(t *testing.T) {
	in := CustodyReceipt{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", Seq: 4, Action: "download", LogIndex: 99, Proof: "p\n", Checkpoint: "c\n"}
	v, err := FormatCustodyEvent(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseCustodyEvent(v)
	if err != nil || out.EvidenceID != in.EvidenceID || out.Seq != 4 || out.Proof != "p\n" {
		t.Errorf("round trip = %+v, %v; want %+v", out, err, in)
	}
	if _, err := ParseCustodyEvent("%%%"); err == nil {
		t.Errorf("ParseCustodyEvent of non-base64 succeeded")
	}
}

func TestCustodyEventLimit(t *testing.T) {
	// A receipt whose header value is exactly maxCustodyHeader bytes long.
	in := CustodyReceipt{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", Seq: 1, Action: "download"}
	v, _ := FormatCustodyEvent(in)
	in.Proof = strings.Repeat("p", (maxCustodyHeader-len(v))/4*3)
	v, err := FormatCustodyEvent(in)
	if err != nil || len(v) != maxCustodyHeader {
		t.Fatalf("built a %d-byte value (%v), want %d", len(v), err, maxCustodyHeader)
	}
	if _, err := ParseCustodyEvent(v); err != nil {
		t.Errorf("ParseCustodyEvent of %d bytes (the limit): %v", len(v), err)
	}
	// One byte more, a space the parser would trim, is over the limit.
	if _, err := ParseCustodyEvent(v + " "); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("ParseCustodyEvent of %d bytes: error %v, want the size limit", len(v)+1, err)
	}
}

func TestIdempotencyKey(t *testing.T) {
	for _, key := range []string{"a", "upload-2026-11-30-1", `with "quotes" and \ backslash`, strings.Repeat("k", 255)} {
		got, err := ParseIdempotencyKey(FormatIdempotencyKey(key))
		if err != nil || got != key {
			t.Errorf("round trip of %q: %q, %v", key, got, err)
		}
	}
	for _, field := range []string{"", "token", `"a", "b"`, `""`, `"` + strings.Repeat("x", 256) + `"`, `"a";p=1 x`} {
		if _, err := ParseIdempotencyKey(field); err == nil {
			t.Errorf("ParseIdempotencyKey(%q) accepted", field)
		}
	}
}
