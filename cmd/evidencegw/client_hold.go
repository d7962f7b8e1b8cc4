package main

import "context"

// runHold and runRelease put evidence under legal hold and release it.
func runHold(ctx context.Context, inv *invocation, args []string) error {
	return holdCommand(ctx, inv, args, true)
}

func runRelease(ctx context.Context, inv *invocation, args []string) error {
	return holdCommand(ctx, inv, args, false)
}

func holdCommand(ctx context.Context, inv *invocation, args []string, on bool) error {
	var reason string
	inv.fs.StringVar(&reason, "reason", "", "why, recorded in the custody event")
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	rc, err := c.Hold(ctx, pos[0], on, reason)
	if err != nil {
		return err
	}
	if inv.json {
		return inv.printJSON(rc)
	}
	if on {
		inv.printf("%s is under legal hold\n", pos[0])
	} else {
		inv.printf("the legal hold on %s is released\n", pos[0])
	}
	inv.printCustody(rc)
	return nil
}
