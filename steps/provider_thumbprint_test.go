package steps

import (
	"context"
	"strings"
	"testing"

	"gitlab-oidc/internal/iamsim"
)

// A provider for an issuer with a private CA is created with the thumbprint
// of the top certificate, and the review shows it before anything is written.
func TestProviderPreviewShowsThumbprint(t *testing.T) {
	sim := iamsim.New()
	spec := ProviderSpec{URL: "https://git.example.com", ClientIDs: []string{"https://git.example.com"},
		Thumbprints: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}}
	_, changes, err := EnsureProvider(context.Background(), sim, spec, Decisions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || !strings.Contains(changes[0].Detail, "thumbprint 9e99a48a9960b14926bb7f3b02e22da2b0ab7280") {
		t.Fatalf("preview = %+v, want the thumbprint shown", changes)
	}
	spec.Thumbprints = nil
	_, changes, _ = EnsureProvider(context.Background(), sim, spec, Decisions{}, false)
	if strings.Contains(changes[0].Detail, "thumbprint") {
		t.Fatalf("a publicly trusted issuer got a thumbprint: %+v", changes)
	}
}
