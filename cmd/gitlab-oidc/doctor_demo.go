package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"gitlab-oidc/diagnose"
	"gitlab-oidc/internal/demo"
)

// doctorInputFlags are the flags that say what to diagnose; --demo brings
// its own job, token and role, so they cannot be combined with it.
var doctorInputFlags = []string{
	"token-file", "token-env", "jwks-file", "error", "job-log", "role-arn", "trust-policy",
	"provider-url", "client-id", "thumbprint", "max-session", "job", "project", "job-id",
	"ci-file", "offline", "private-issuer-ok", "gitlab-url", "profile", "region",
}

// demoInputs replaces the collect options and sources with the simulated
// failed job of `doctor --demo`. Only --now, --format and --no-tui still
// apply. In plain text mode the report starts by saying it is simulated;
// with --format json that note goes to stderr, so stdout stays JSON.
func (f *doctorFlags) demoInputs(cmd *cobra.Command, given diagnose.CollectOptions) (diagnose.CollectOptions, func(context.Context, diagnose.CollectOptions) (diagnose.Sources, []string), error) {
	for _, name := range doctorInputFlags {
		if cmd.Flags().Changed(name) {
			return given, nil, usageError("--demo diagnoses its own simulated job: drop --%s", name)
		}
	}
	opts, src, err := demo.Doctor()
	if err != nil {
		return given, nil, err
	}
	opts.Now = given.Now
	if f.plain(cmd) {
		w := cmd.OutOrStdout()
		if f.format == "json" {
			w = cmd.ErrOrStderr()
		}
		fmt.Fprintln(w, "SIMULATED (demo): job 7003 of acme/payments on a simulated gitlab.com and AWS account; nothing leaves this machine.")
	}
	return opts, func(context.Context, diagnose.CollectOptions) (diagnose.Sources, []string) { return src, nil }, nil
}
