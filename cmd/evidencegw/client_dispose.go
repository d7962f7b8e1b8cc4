package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) newDisposeCmd() *cobra.Command {
	var authority string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "dispose EVIDENCE-ID --authority TEXT",
		Short: "Destroy evidence after its retention period, keeping its custody record",
		Long: `Dispose of evidence once the retention period of its case has ended: the gateway
destroys the stored content and every version of its data key, so that no copy of the
encrypted content can ever be decrypted again (crypto-shredding), and records a dispose
event naming the authority it rests on (a court order, or the retention schedule), with
your act, signed with your key (--key), naming the same authority. The
evidence record, its custody history and its bundle remain, and the bundle still
verifies offline, showing the disposal.

By default the owning agency's investigators, and a court of the evidence's jurisdiction
that holds a grant to it, may dispose of evidence. The gateway refuses, recording
nothing, a disposal inside the retention period (see show: "Retained until") or of
evidence under legal hold; so does the object store (S3 Object Lock), against the
gateway itself. If the store refuses after the disposal was recorded, the command says
so: run it again later to finish.`,
		Example: `  evidencegw dispose $ID --authority "order of the Rotterdam District Court, 2036/17"
  evidencegw dispose $ID --authority "retention schedule: case closed 2031, ten years" --json`,
		Args: positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(authority) == "" {
				return usagef("--authority must name the court order or schedule the disposal rests on")
			}
			return a.dispose(cmd.Context(), args[0], authority)
		},
	})
	cmd.Flags().StringVar(&authority, "authority", "", "`TEXT` naming the court order or retention schedule the disposal rests on (required)")
	must(cmd.MarkFlagRequired("authority"))
	return cmd
}

func (a *app) dispose(ctx context.Context, id, authority string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.Dispose(ctx, id, authority)
	if err != nil {
		return fmt.Errorf("disposing of %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(r)
	}
	a.printf("%s is disposed of under %q: ", id, authority)
	switch {
	case r.ContentDestroyed || r.DataKeysDestroyed > 0:
		a.printf("content destroyed %s, %d data-key version(s) destroyed\n", yesNo(r.ContentDestroyed), r.DataKeysDestroyed)
	default:
		a.printf("it was already; nothing was left to destroy\n")
	}
	a.printCustody(&r.Custody)
	return nil
}
