package policy_test

import (
	"fmt"
	"log"
	"time"

	"github.com/evidencegw/evidencegw/policy"
)

func ExampleEngine_Decide() {
	e, err := policy.New(policy.Config{}) // the embedded default policies
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := policy.Evidence{
		ID:    "ev-1",
		Owner: "de-bka",
		Grants: []policy.Grant{{
			ID:      "g1",
			To:      "fr-police",
			Expires: now.Add(30 * 24 * time.Hour),
		}},
	}
	partner := policy.Principal{Agency: "fr-police", Person: "paul", Role: "investigator"}

	for _, a := range []policy.Action{policy.ActionView, policy.ActionDownload} {
		d := e.Decide(partner, a, ev, now)
		fmt.Println(a, d.Allow, d.Policies)
	}

	ev.Grants[0].Accepted = true
	d := e.Decide(partner, policy.ActionDownload, ev, now)
	fmt.Println("download after accept:", d.Allow, d.Policies, d.Grant.ID)

	stranger := policy.Principal{Agency: "nl-politie", Role: "investigator"}
	d = e.Decide(stranger, policy.ActionView, ev, now)
	fmt.Println("stranger:", d.Allow, d.Visible)

	// Output:
	// view true [grantee-read]
	// download false [forbid-download-not-accepted]
	// download after accept: true [grantee-download] g1
	// stranger: false false
}
