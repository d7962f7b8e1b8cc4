package e2e

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// The ceilings below are servers that do nothing but TLS and the store's own work. A
// transfer through them is the fastest any gateway could be on this machine, with the
// client, the server and the store on the same cores: the targets are ratios to
// baselines without TLS, and these show how much of the gap TLS alone takes.

// tlsSinkServer takes a PUT body over HTTPS (TLS 1.3, HTTP/1.1) and writes it to a new
// file in dir, fsynced before the answer, then removes it.
func tlsSinkServer(b *testing.B, dir string) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.CreateTemp(dir, "bench-tls-sink-*")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.CopyBuffer(struct{ io.Writer }{f}, r.Body, make([]byte, 1<<20)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := f.Sync(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// tlsRelayServer relays over HTTPS to MinIO and nothing else: a PUT of /KEY streams the
// body into PutObject (16 MiB parts, as the gateway's), a GET of /KEY streams GetObject
// back.
func tlsRelayServer(b *testing.B, mc *minio.Client, bucket string) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/")
		switch r.Method {
		case http.MethodPut:
			put, err := mc.PutObject(r.Context(), bucket, key, r.Body, r.ContentLength, minio.PutObjectOptions{PartSize: 16 << 20})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("X-Version-Id", put.VersionID)
			w.WriteHeader(http.StatusCreated)
		case http.MethodGet:
			o, err := mc.GetObject(r.Context(), bucket, key, minio.GetObjectOptions{})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer o.Close()
			io.CopyBuffer(struct{ io.Writer }{w}, o, make([]byte, 1<<20))
		default:
			http.Error(w, "PUT or GET", http.StatusMethodNotAllowed)
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// tlsUploadRate PUTs the file at path to url, hashing it as it is read (as the
// gateway's client does), and returns the rate in MB/s and the answer's X-Version-Id
// (the version of the relay's object).
func tlsUploadRate(b *testing.B, srv *httptest.Server, url, path string, size int64) (float64, string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	h := sha256.New()
	req, err := http.NewRequest(http.MethodPut, url, io.TeeReader(struct{ io.Reader }{f}, h))
	if err != nil {
		b.Fatal(err)
	}
	req.ContentLength = size
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("PUT %s: status %d", url, resp.StatusCode)
	}
	return rate(size, time.Since(start)), resp.Header.Get("X-Version-Id")
}

// tlsRelayPutGet puts the file at path through a TLS relay to MinIO, gets it back
// through it (hashing it, as benchDownloadURL), removes it, and returns both rates.
func tlsRelayPutGet(b *testing.B, mc *minio.Client, bucket, path string, size int64, sum []byte) (put, get float64) {
	relay := tlsRelayServer(b, mc, bucket)
	key := "bench/relay-" + randHex()
	put, version := tlsUploadRate(b, relay, relay.URL+"/"+key, path, size)
	start := time.Now()
	benchDownloadURL(b, relay.Client(), relay.URL+"/"+key, sum)
	get = rate(size, time.Since(start))
	removeVersion(mc, bucket, key, version)
	return put, get
}

// tlsSinkRate uploads the file at path to a TLS sink writing in dir.
func tlsSinkRate(b *testing.B, dir, path string, size int64) float64 {
	sink := tlsSinkServer(b, dir)
	r, _ := tlsUploadRate(b, sink, sink.URL+"/", path, size)
	return r
}
