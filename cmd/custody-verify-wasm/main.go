//go:build js && wasm

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall/js"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/report"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

func main() {
	js.Global().Set("verifyBundle", js.FuncOf(verifyBundle))
	js.Global().Set("verifyBundleEvidence", js.FuncOf(verifyBundleEvidence))
	select {}
}

// verifyBundle is verifyBundle(bundle, trustRoot, options?) in JavaScript.
func verifyBundle(_ js.Value, args []js.Value) any {
	if len(args) < 2 {
		return result(nil, errors.New("verifyBundle needs a bundle and a trust root"), report.Meta{})
	}
	in := newInputs(args[0], args[1], arg(args, 2))
	return in.run(nil)
}

// verifyBundleEvidence is verifyBundleEvidence(bundle, trustRoot, file, options?) in
// JavaScript. It returns a Promise: reading the file waits on JavaScript promises,
// which must not block the callback itself.
func verifyBundleEvidence(_ js.Value, args []js.Value) any {
	if len(args) < 3 {
		return result(nil, errors.New("verifyBundleEvidence needs a bundle, a trust root and an evidence file"), report.Meta{})
	}
	in := newInputs(args[0], args[1], arg(args, 3))
	file := args[2]
	in.meta.EvidenceName = file.Get("name").String()
	progress := in.options.Get("onProgress")
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, pargs []js.Value) any {
		resolve := pargs[0]
		go func() {
			defer executor.Release()
			content := &streamReader{reader: file.Call("stream").Call("getReader"),
				total: int64(file.Get("size").Float()), progress: progress}
			resolve.Invoke(in.run(content))
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) && args[i].Type() == js.TypeObject {
		return args[i]
	}
	return js.Global().Get("Object").New()
}

// inputs are the files given to one verification.
type inputs struct {
	bundle, trustRoot []byte
	options           js.Value
	meta              report.Meta
}

func newInputs(bundle, trustRoot, options js.Value) *inputs {
	in := &inputs{bundle: bytesOf(bundle), trustRoot: bytesOf(trustRoot), options: options}
	in.meta = report.Meta{Generated: time.Now(), Tool: "custody-verify-wasm in the browser, " + report.ToolVersion(),
		BundleName: stringOption(options, "bundleName"), BundleSHA256: sha256Hex(in.bundle),
		TrustRootSHA256: sha256Hex(in.trustRoot)}
	return in
}

// run verifies, hashing content if it is not nil, and returns the JavaScript result.
func (in *inputs) run(content io.Reader) js.Value {
	tr, err := custody.ParseTrustRoot(in.trustRoot)
	if err != nil {
		return result(nil, fmt.Errorf("reading trust root: %w", err), in.meta)
	}
	in.meta.TrustRoot = tr
	b, err := custody.ParseBundle(in.bundle)
	if err != nil {
		return result(nil, fmt.Errorf("reading bundle: %w", err), in.meta)
	}
	var opts custody.VerifyOptions
	if content != nil {
		opts.Content = content
	}
	r, err := custody.Verify(b, tr, opts)
	return result(r, err, in.meta)
}

// result is the object verifyBundle returns.
func result(r *custody.Report, verr error, meta report.Meta) js.Value {
	out := js.Global().Get("Object").New()
	var html bytes.Buffer
	if err := report.WriteHTML(&html, r, verr, meta); err != nil {
		verr = errors.Join(verr, err)
	}
	jr, err := json.Marshal(verifycmd.NewJSONReport(r, verr))
	if err != nil {
		verr = errors.Join(verr, err)
	}
	out.Set("verified", verr == nil && r != nil)
	out.Set("html", html.String())
	out.Set("error", "")
	if verr != nil {
		out.Set("error", verr.Error())
	}
	out.Set("report", js.Global().Get("JSON").Call("parse", string(jr)))
	return out
}

// bytesOf copies a JavaScript string or Uint8Array.
func bytesOf(v js.Value) []byte {
	if v.Type() == js.TypeString {
		return []byte(v.String())
	}
	if v.InstanceOf(js.Global().Get("Uint8Array")) {
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return b
	}
	return nil
}

func stringOption(options js.Value, name string) string {
	if v := options.Get(name); v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
