package main

import (
	"fmt"
	"io"
	"os"

	"gitlab-oidc/steps"
)

// runExport writes the plan as Terraform or CloudFormation instead of calling
// the APIs, for teams whose changes go through code review. An existing
// provider is referenced, not declared again (one provider per issuer).
func runExport(plan steps.Plan, conn *steps.Connection, f *setupFlags, stdout, stderr io.Writer) error {
	opts := steps.ExportOptions{ExistingProviderARN: conn.Existing.ProviderARN}
	var out []byte
	var err error
	switch f.export {
	case "terraform":
		out, err = steps.ExportTerraform(plan, opts)
	case "cloudformation":
		out, err = steps.ExportCloudFormation(plan, opts)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", f.export, err)
	}
	if f.output == "" || f.output == "-" {
		_, err = stdout.Write(out)
		return err
	}
	if _, statErr := os.Stat(f.output); statErr == nil && !f.yes {
		return usageError("%s exists; pass --yes to overwrite it, or choose another --output", f.output)
	}
	if err := os.WriteFile(f.output, out, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", f.output, err)
	}
	fmt.Fprintf(stderr, "✓ %s written to %s (no API write call was made)\n", f.export, f.output)
	return nil
}
