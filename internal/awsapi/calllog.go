package awsapi

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallLog records every AWS operation a client makes, as "Service.Operation"
// (e.g. "IAM.CreateRole"). Tests use it to prove that a second run writes
// nothing and that a preview only reads; benchmarks use it to count calls.
// It is safe for concurrent use.
type CallLog struct {
	mu    sync.Mutex
	calls []string
}

// Attach adds the recorder to cfg so every client built from it is logged.
// Each operation is recorded once, however many times the retryer resends it.
func (l *CallLog) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, l.middleware)
}

func (l *CallLog) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("gitlab-oidc/CallLog",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			l.Record(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// Record adds one call. In-memory fakes (internal/iamsim) call it directly so
// the same assertions work against them.
func (l *CallLog) Record(service, op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, service+"."+op)
}

// Calls returns every recorded call in order.
func (l *CallLog) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// Writes returns the recorded calls that may change state: every operation
// whose name does not start with Get, List or Describe.
func (l *CallLog) Writes() []string {
	var out []string
	for _, c := range l.Calls() {
		if IsWrite(c) {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets every recorded call, so a test can count one phase at a time.
func (l *CallLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// IsWrite reports whether a call ("Service.Operation" or just "Operation")
// may change state, judged by the AWS naming convention for read operations.
func IsWrite(call string) bool {
	op := call
	if i := strings.LastIndexByte(call, '.'); i >= 0 {
		op = call[i+1:]
	}
	for _, p := range []string{"Get", "List", "Describe"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}
