package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Get sends GET path?query to the gateway as this identity and returns its answer as
// it is, whatever its status: the caller reads and closes the body. It is the read a
// proxy passes on unchanged (the console, docs/console.md); the API's own reads have
// their methods (Evidence, History...). path must start with /v1/. accept, if not
// empty, is sent as the Accept header. Nothing is retried.
func (c *Client) Get(ctx context.Context, path string, query url.Values, accept string) (*http.Response, error) {
	if !strings.HasPrefix(path, "/v1/") {
		return nil, fmt.Errorf("GET %s: not an API path", path)
	}
	op := "GET " + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path, query), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %w", op, ctxErr)
		}
		return nil, transportError(op, err)
	}
	return resp, nil
}
