//go:build crashtest

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// crashEnv names the step at which a crashtest build kills itself: STEP or STEP:N (the
// Nth time the step is passed, from 1). Only binaries built with -tags crashtest read it:
// the crash-safety tests (e2e/crash_test.go) build one.
const crashEnv = "EVIDENCEGW_CRASH_AT"

// crashHook returns the step hook that kills the process with SIGKILL, as a power cut
// or kill -9 would, when it passes the step named in $EVIDENCEGW_CRASH_AT.
func crashHook() func(step string) {
	v := os.Getenv(crashEnv)
	if v == "" {
		return nil
	}
	step, nth, _ := strings.Cut(v, ":")
	n := 1
	if nth != "" {
		var err error
		if n, err = strconv.Atoi(nth); err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "evidencegw: %s=%q: want STEP or STEP:N\n", crashEnv, v)
			os.Exit(2)
		}
	}
	var mu sync.Mutex
	seen := 0
	return func(s string) {
		if s != step {
			return
		}
		mu.Lock()
		seen++
		hit := seen == n
		mu.Unlock()
		if hit {
			fmt.Fprintf(os.Stderr, "evidencegw: crash test: killed at %s\n", v)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal ends the process
		}
	}
}
