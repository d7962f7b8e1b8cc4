package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Command groups of the root help.
const (
	groupServer = "server"
	groupClient = "client"
	groupCourt  = "court"
)

// rootLong is the root command's help; its last section is the exit statuses, the same
// for every command (docs/cli.md).
const rootLong = `'evidencegw serve' runs the gateway. The client commands talk to it under a member's
identity: a directory holding cert.pem, key.pem, ca.pem and gateway, given with
--identity DIR or $` + identityEnv + ` ('serve' issues one per member of the demo agencies
under evidencegw-data/identities). Every change of custody is a signed event in a
transparency log; 'evidencegw verify' checks an exported bundle of them offline, as a
court does, with no identity and no network.

Exit status, the same for every command:
  0  success
  1  the command failed: the gateway refused or could not be reached, a file is
     missing or unreadable, an input cannot be parsed; for verify: could not verify
  2  usage error: unknown command or flag, missing or extra argument, invalid flag value
  3  verification failed: custody or evidence is proven bad (a bundle that does not
     verify or wrong evidence, a download whose bytes fail their digest, an
     inconsistent log, an upload the gateway received with another digest)`

// helpTemplate is cobra's, with the command's one-line Short description always first.
const helpTemplate = `{{.Short | trimTrailingWhitespaces}}
{{with .Long}}
{{. | trimTrailingWhitespaces}}
{{end}}{{if or .Runnable .HasSubCommands}}
{{.UsageString}}{{end}}`

// newRootCmd builds the command tree, run in env. Build a new one for every command
// line: the commands keep the values of their flags.
func newRootCmd(env clientEnv) *cobra.Command {
	a := &app{env: env}
	root := &cobra.Command{
		Use:     "evidencegw",
		Short:   "Electronic-evidence exchange gateway with a signed chain of custody",
		Long:    rootLong,
		Example: "  evidencegw serve\n  evidencegw upload --identity evidencegw-data/identities/investigator-nl --case CASE-2026-0042 laptop.img\n  evidencegw verify bundle.json --trust-root trust-root.json --evidence laptop.img",
		Version: buildVersion(debug.ReadBuildInfo()),
		Args:    subcommandArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("missing command")
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		SilenceErrors:     true,
		SilenceUsage:      true,
	}
	root.SetVersionTemplate("evidencegw {{.Version}}\n")
	root.SetHelpTemplate(helpTemplate)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddGroup(
		&cobra.Group{ID: groupServer, Title: "Server and operator commands:"},
		&cobra.Group{ID: groupClient, Title: "Client commands (each takes --identity DIR or $" + identityEnv + ", and --json):"},
		&cobra.Group{ID: groupCourt, Title: "Court commands (offline, no identity):"},
	)
	root.AddCommand(
		newServeCmd(env), newKeysCmd(env),
		a.newUploadCmd(), a.newShareCmd(), a.newAcceptCmd(), a.newDownloadCmd(), a.newRevokeCmd(),
		a.newHoldCmd(), a.newReleaseCmd(), a.newDisposeCmd(), a.newShowCmd(), a.newHistoryCmd(), a.newWhoamiCmd(),
		a.newBundleCmd(), a.newTrustRootCmd(), a.newLogCmd(), a.newConsoleCmd(),
		a.newRequestCmd(), a.newRespondCmd(), a.newAcknowledgeCmd(), a.newWithdrawCmd(), a.newRequestsCmd(),
		a.newInboxCmd(), a.newCasesCmd(), a.newCaseCmd(), newCatalogCmd(env),
		a.newVerifyCmd(),
		newVersionCmd(),
	)
	// Create cobra's help and completion commands now rather than when executing, so
	// that finishTree sees them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	finishTree(root)
	return root
}

// finishTree applies to cmd and every command below it what they all share: their Use
// lists their flags already, mistyped subcommands get suggestions, and the errors of
// their RunE are marked as such (markRunError).
func finishTree(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	cmd.SuggestionsMinimumDistance = 2
	markRunError(cmd)
	for _, sub := range cmd.Commands() {
		finishTree(sub)
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "version",
		Short:             "Print the version of evidencegw",
		Long:              "Print the version of evidencegw: the module version, or the VCS revision of a build from a work tree; then the Go version. Same as 'evidencegw --version'.",
		Example:           "  evidencegw version",
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "evidencegw %s\n", cmd.Root().Version)
			return err
		},
	}
}

// newGroupCmd completes cmd as a command that only holds subcommands: run alone, or
// with anything that names no subcommand, it is a usage error.
func newGroupCmd(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = subcommandArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return usagef("missing subcommand: %s", strings.Join(subcommandNames(cmd), ", "))
	}
	cmd.ValidArgsFunction = cobra.NoFileCompletions
	cmd.AddCommand(subs...)
	return cmd
}

func subcommandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return names
}

// subcommandArgs rejects the arguments of a command that holds subcommands: the first
// one names none of them.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageError{msg}
}

// positional accepts exactly the named positional arguments, in order.
func positional(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usagef("missing %s", names[len(args)])
		case len(args) > len(names):
			return usagef("unexpected argument %q", args[len(names)])
		}
		return nil
	}
}

// atLeastOne accepts one or more positional arguments, named name.
func atLeastOne(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("missing %s", name)
		}
		return nil
	}
}

// flagError is the error of a command line whose flags do not parse. On a command that
// holds subcommands, an unknown command given before the flag is the error to report:
// the flag may belong to the command the user meant.
func flagError(cmd *cobra.Command, err error) error {
	if cmd.HasSubCommands() && cmd.Flags().NArg() > 0 {
		if aerr := subcommandArgs(cmd, cmd.Flags().Args()); aerr != nil {
			return aerr
		}
	}
	return usageError{err.Error()}
}

// must panics on an error of the command tree's construction (a flag registered for
// completion that does not exist): a bug, caught by any test that builds the tree.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
