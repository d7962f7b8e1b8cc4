package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

// TestMain lets the scripts run evidencegw and custody-verify in-process: testscript
// runs the test binary under those names.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"evidencegw": main,
		// The whole of cmd/custody-verify's main.
		"custody-verify": func() { os.Exit(verifycmd.Command(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the command-line scripts in testdata/script. $BUNDLES is
// testdata/bundles-v1, bundles of the first release with their trust root.
func TestScript(t *testing.T) {
	bundles, err := filepath.Abs(filepath.Join("testdata", "bundles-v1"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("BUNDLES", bundles)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":   cmdExits,
			"replace": cmdReplace,
		},
		RequireExplicitExec: true,
	})
}

// cmdExits is the script command "exits N PROG [ARGS...]": run PROG and check that
// it exits with status N. Its output is then checked like exec's.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var ee *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdReplace is the script command "replace FILE OLD NEW": replace the one occurrence
// of OLD in FILE with NEW.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if n := strings.Count(string(data), args[1]); n != 1 {
		ts.Fatalf("%s holds %q %d times, want once", args[0], args[1], n)
	}
	ts.Check(os.WriteFile(path, []byte(strings.Replace(string(data), args[1], args[2], 1)), 0o644))
}

// TestHelpScriptCoversEveryCommand checks that help.txt runs --help for every command
// of the tree, so that a new command gets its help checked too.
func TestHelpScriptCoversEveryCommand(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "script", "help.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		line := "exec " + cmd.CommandPath() + " --help\n"
		if !strings.Contains(string(script), line) {
			t.Errorf("help.txt lacks %q", line)
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(testEnv("")))
}
