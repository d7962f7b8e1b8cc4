package devvault

import (
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/file"
)

// openStorage returns Vault's sdk file backend rooted at dir (one file per
// entry, written to a temporary file and renamed), or memory storage when
// dir is empty. Unlike a real Vault there is no encrypting barrier.
func openStorage(dir string, logger hclog.Logger) (logical.Storage, error) {
	if dir == "" {
		return new(logical.InmemStorage), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening storage %s: %w", dir, err)
	}
	b, err := file.NewFileBackend(map[string]string{"path": dir}, logger.Named("storage"))
	if err != nil {
		return nil, fmt.Errorf("opening storage %s: %w", dir, err)
	}
	return logical.NewLogicalStorage(b), nil
}
