// Package e2e runs the generated pipeline snippet against real peers:
// gitlab-ci-local (pinned in the repository's package.json) validates the
// pipeline against GitLab's CI JSON schema and runs the example job in a
// shell, where the aws CLI exchanges a signed token with moto's STS. The
// tests skip only when a peer is missing and GITLAB_OIDC_REQUIRE_PEERS is
// unset; CI sets it.
package e2e
