package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestCLIDoc checks that docs/cli.md has a section for every command and names every
// flag of it, so that the page keeps up with the command tree.
func TestCLIDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Name() == "help" || (cmd.HasParent() && cmd.Parent().Name() == "completion") {
			return
		}
		if !cmd.HasSubCommands() || cmd.Name() == "completion" {
			heading := "### `" + cmd.CommandPath() + "`\n"
			if !strings.Contains(string(doc), heading) {
				t.Errorf("docs/cli.md lacks the section %q", heading)
			}
			cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
				if f.Name != "help" && !strings.Contains(string(doc), "--"+f.Name) {
					t.Errorf("docs/cli.md does not name %s --%s", cmd.CommandPath(), f.Name)
				}
			})
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(testEnv("")))
}
