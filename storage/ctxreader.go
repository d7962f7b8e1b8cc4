package storage

import (
	"context"
	"io"
)

// ContextReader returns a reader that fails reads once ctx is done, with ctx's error.
// A Read already blocked in r is not interrupted. The stores use it so that a cancelled
// upload stops at the next read.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
