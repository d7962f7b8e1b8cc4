package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) newHoldCmd() *cobra.Command {
	return a.newHoldCommand(true, &cobra.Command{
		Use:   "hold EVIDENCE-ID [--reason TEXT]",
		Short: "Put evidence under legal hold",
		Long: `Put evidence your agency owns under legal hold: the stored content cannot be deleted
until the hold is released (S3 Object Lock legal hold where the store supports it; the
local store never deletes). The hold, with its reason, is a custody event.`,
		Example: `  evidencegw hold $ID --reason "appeal pending"`,
	})
}

func (a *app) newReleaseCmd() *cobra.Command {
	return a.newHoldCommand(false, &cobra.Command{
		Use:     "release EVIDENCE-ID [--reason TEXT]",
		Short:   "Release the legal hold on evidence",
		Long:    "Release the legal hold on evidence your agency owns. The release, with its reason, is a custody event.",
		Example: `  evidencegw release $ID --reason "appeal decided"`,
	})
}

// newHoldCommand completes cmd as the command that puts evidence under legal hold (on)
// or releases it.
func (a *app) newHoldCommand(on bool, cmd *cobra.Command) *cobra.Command {
	var reason string
	cmd.Args = positional("EVIDENCE-ID")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.hold(cmd.Context(), args[0], on, reason)
	}
	cmd.Flags().StringVar(&reason, "reason", "", "`TEXT` saying why, recorded in the custody event")
	return a.clientCommand(cmd)
}

func (a *app) hold(ctx context.Context, id string, on bool, reason string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	rc, err := c.Hold(ctx, id, on, reason)
	if err != nil {
		if on {
			return fmt.Errorf("putting %s under legal hold: %w", id, err)
		}
		return fmt.Errorf("releasing the legal hold on %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(rc)
	}
	if on {
		a.printf("%s is under legal hold\n", id)
	} else {
		a.printf("the legal hold on %s is released\n", id)
	}
	a.printCustody(rc)
	return nil
}
