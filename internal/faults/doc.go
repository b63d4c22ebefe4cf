// Package faults holds fault-injection tests of the flows that talk to AWS,
// GitLab and OIDC issuers: setup (steps.Runner), doctor (diagnose.Collect and
// Diagnose) and audit (diagnose.AuditAccount), each run against real peers
// (moto, the fake GitLab, a TLS issuer) behind internal/netproxy, which
// throttles, fails, resets or hangs chosen requests. The tests prove that
// what is safe to retry is retried with a bound, that what is not is never
// retried, that a failure says what was done and what was not, and that a
// re-run finishes the work without duplicating anything.
package faults
