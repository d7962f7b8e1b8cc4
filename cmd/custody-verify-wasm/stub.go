//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "custody-verify-wasm runs in a browser: build it with GOOS=js GOARCH=wasm (see web/build)")
	os.Exit(2)
}
