package caseexport

import (
	"fmt"
	"log"
)

func ExampleFromBundle() {
	b, _, err := newFixtureBundle()
	if err != nil {
		log.Fatal(err)
	}
	doc, err := FromBundle(b)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range doc.Graph {
		if n.Type() == "case-investigation:InvestigativeAction" {
			fmt.Println(n["uco-core:name"])
		}
	}
	// Output:
	// register
	// share
	// accept
	// download
	// share
	// integrity-failure
	// revoke
	// legal-hold
	// key-rewrap
	// legal-hold-release
	// bundle-export
}
