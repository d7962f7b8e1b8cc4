package custody

import jsonv2 "github.com/go-json-experiment/json"

// decodeStrict decodes the one JSON value of b into v, refusing what two readers could
// read two ways (docs/bundle.md, "JSON"): a duplicate member name, a member name that
// matches a field only when case is ignored, a member the format does not define,
// invalid UTF-8, and anything after the value. It uses the semantics of encoding/json
// v2 (github.com/go-json-experiment/json), which refuse the first two by default.
func decodeStrict(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true))
}
