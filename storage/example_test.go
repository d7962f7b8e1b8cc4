package storage_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
)

func ExampleSealer() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "evidencegw-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := localfs.New(ctx, localfs.Config{Dir: dir + "/data"})
	if err != nil {
		log.Fatal(err)
	}
	k, err := keys.OpenLocal(dir+"/keys", "example.org/evidencegw/log")
	if err != nil {
		log.Fatal(err)
	}
	s := &storage.Sealer{Store: store, Keys: k}

	evidence := "disk image bytes"
	declared := sha256.Sum256([]byte(evidence)) // from the client's Content-Digest
	aad := []byte("ev-01J9ZQ")
	sealed, err := s.Seal(ctx, "evidence/ev-01J9ZQ/content", "nl", aad, declared[:], strings.NewReader(evidence))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sealed.PlainSize, sealed.Object.Size, sealed.KeyRef)

	if err := s.Verify(ctx, sealed); err != nil {
		log.Fatal(err)
	}
	rc, err := s.Open(ctx, sealed, aad)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	plain, err := io.ReadAll(rc) // complete and authentic only once ReadAll succeeds
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(plain))
	// Output:
	// 16 72 local:kek-v1
	// disk image bytes
}
