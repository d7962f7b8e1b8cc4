package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

// newVerifyCmd is the court's offline verifier, the same as custody-verify. It takes no
// identity.
func (a *app) newVerifyCmd() *cobra.Command {
	var o verifycmd.Options
	cmd := &cobra.Command{
		Use:   "verify " + verifycmd.Synopsis,
		Short: "Verify custody bundles offline against a pinned trust root",
		Long: verifycmd.Description + `

'evidencegw verify' is the same verifier as custody-verify, the court's small
stand-alone program. It exits 0 when everything verified, 1 when it could not verify
(an input is missing, unreadable or cannot be parsed), 3 when the custody or the
evidence is proven bad.`,
		Example: `  evidencegw verify bundle.json --trust-root trust-root.json --evidence received.img
  evidencegw verify bundle.json --trust-root trust-root.json --html report.html
  evidencegw verify bundle.json --trust-root trust-root.json --log-snapshot log.json
  evidencegw verify bundle.json --trust-root trust-root.json --witness-policy court-witnesses.txt
  evidencegw verify old-bundle.json bundle.json --trust-root trust-root.json`,
		GroupID: groupCourt,
		Args:    atLeastOne("BUNDLE"),
		// BUNDLE: no completions of our own, so the shell completes file names.
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.BundlePath, o.OtherBundles, o.JSON = args[0], args[1:], a.json
			if progress := a.progress(); progress != nil {
				o.WrapContent = func(r io.Reader, size int64) io.Reader {
					return &progressReader{r: r, total: size, progress: progress}
				}
			}
			return verifycmd.Run(o, a.env.stdout)
		},
	}
	o.Register(cmd.Flags())
	cmd.Flags().BoolVar(&a.json, "json", false, "print the report as JSON")
	must(cmd.MarkFlagRequired("trust-root"))
	return cmd
}

// progressReader reports the bytes read from r as the hashing phase.
type progressReader struct {
	r        io.Reader
	done     int64
	total    int64
	progress client.ProgressFunc
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.progress(client.PhaseHashing, p.done, p.total)
	return n, err
}
