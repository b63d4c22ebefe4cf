package awsapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Hint is the user-facing explanation of an AWS error: what failed, why, and
// what to do about it.
type Hint struct {
	// Code is the AWS error code (e.g. "AccessDenied"), or "NoCredentials"
	// when the SDK found no usable credentials before calling AWS.
	Code string
	// Permission is the IAM action that was missing, for access-denied errors.
	Permission string
	What       string
	Why        string
	Fix        string
}

// Error is an AWS error explained for the person running gitlab-oidc. It
// keeps the original error (Unwrap) so callers can still errors.As it into a
// smithy.APIError or an SDK exception type.
type Error struct {
	// Op is the AWS operation, e.g. "IAM.CreateRole", when known.
	Op         string
	Code       string
	Permission string
	What       string
	Why        string
	Fix        string
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	if e.Why != "" {
		b.WriteString(": ")
		b.WriteString(e.Why)
	}
	if e.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying SDK error.
func (e *Error) Unwrap() error { return e.Err }

// notAuthorized extracts the action (and resource) from IAM's access-denied
// message: "User: arn:... is not authorized to perform: iam:CreateRole on
// resource: arn:aws:iam::123456789012:role/x because ...".
var notAuthorized = regexp.MustCompile(`not authorized to perform: ([A-Za-z0-9-]+:[A-Za-z0-9*]+)(?: on resource: (\S+))?`)

// credentialMarkers are fragments of the SDK's own (untyped) errors when the
// default chain found no credentials or could not refresh them.
var credentialMarkers = []string{
	"failed to retrieve credentials",
	"get credentials:",
	"failed to refresh cached credentials",
	"no EC2 IMDS role found",
	"refresh cached SSO token failed",
	"static credentials are empty",
}

const credentialsFix = "configure credentials: run `aws sso login --profile NAME` and pass --profile NAME (or set AWS_PROFILE), or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; check with `aws sts get-caller-identity`"

// Classify explains err when it is an AWS API error (or missing
// credentials). It returns nil for errors it knows nothing about, such as a
// cancelled context.
func Classify(err error) *Hint {
	if err == nil {
		return nil
	}
	service, op := operation(err)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		if h := unreachable(err, service, op); h != nil {
			return h
		}
		msg := err.Error()
		for _, m := range credentialMarkers {
			if strings.Contains(msg, m) {
				return &Hint{
					Code: "NoCredentials",
					What: callName(service, op) + " was not sent",
					Why:  "no usable AWS credentials were found (or they could not be refreshed)",
					Fix:  credentialsFix,
				}
			}
		}
		return nil
	}
	h := classifyCode(apiErr.ErrorCode(), apiErr.ErrorMessage(), service, op)
	h.What = callName(service, op) + " failed"
	return h
}

// unreachable explains a request that never got an answer (connection
// refused, unknown host, timeout): the usual cause is the network, a proxy
// or an AWS_ENDPOINT_URL left pointing at an emulator that is not running,
// and the SDK's own text names none of them. A cancelled context is not
// explained: the user stopped the run.
func unreachable(err error, service, op string) *Hint {
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) || errors.Is(err, context.Canceled) {
		return nil
	}
	fix := "check the network connection and any HTTPS_PROXY, then re-run"
	if ep := endpointOverride(); ep != "" {
		fix = "AWS_ENDPOINT_URL" + ep + " is set: start the endpoint it names, or unset it to use AWS"
	}
	return &Hint{
		Code: "Unreachable",
		What: callName(service, op) + " got no answer",
		Why:  "the AWS endpoint could not be reached: " + send.Err.Error(),
		Fix:  fix,
	}
}

// endpointOverride describes the AWS_ENDPOINT_URL* variable that redirects
// the calls, e.g. "=http://127.0.0.1:5000", or "" when none is set.
func endpointOverride() string {
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS"} {
		if v := os.Getenv(name); v != "" {
			return strings.TrimPrefix(name, "AWS_ENDPOINT_URL") + "=" + v
		}
	}
	return ""
}

// classifyCode maps one AWS error code to a hint; What is filled by the caller.
func classifyCode(code, msg, service, op string) *Hint {
	h := &Hint{Code: code}
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		h.Permission = requiredPermission(msg, service, op)
		h.Why, h.Fix = accessDenied(msg, h.Permission, op)
	case "EntityAlreadyExists":
		h.Why = "an IAM resource with that name or URL already exists in this account"
		h.Fix = "re-run setup: it reuses the existing resource instead of creating it; or pick another name"
	case "NoSuchEntity":
		h.Why = "the IAM resource does not exist in this account: " + msg
		h.Fix = "check the name or ARN, and that you are in the right account (`aws sts get-caller-identity`)"
	case "LimitExceeded":
		h.Why, h.Fix = limitExceeded(msg, op)
	case "MalformedPolicyDocument":
		h.Why = "IAM rejected the policy document: " + msg
		h.Fix = "check the policy JSON (the plan shows it); if gitlab-oidc generated it, please report the bug with the plan output"
		if strings.Contains(msg, "Invalid principal") {
			h.Why = "the trust policy names a principal IAM does not know: " + msg
			h.Fix = "make sure the OIDC provider in the trust policy exists in this account (`aws iam list-open-id-connect-providers`); a provider created seconds ago may need a minute to propagate, then re-run"
		}
	case "InvalidInput", "ValidationError":
		h.Why = "AWS rejected a value: " + msg
		h.Fix = "correct the value named in the message and re-run"
	case "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		h.Why = "AWS does not recognise the credentials in use (" + code + ")"
		h.Fix = credentialsFix
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		h.Why = "the AWS credentials have expired"
		h.Fix = "refresh them: `aws sso login --profile NAME` (then --profile NAME or AWS_PROFILE), or get new temporary keys"
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown":
		h.Why = fmt.Sprintf("AWS throttled the requests (already retried %d times)", MaxAttempts-1)
		h.Fix = "wait a minute and re-run; setup is idempotent and continues where it stopped"
	case "ConcurrentModification":
		h.Why = "another change to the same IAM resource was in progress"
		h.Fix = "re-run in a moment; setup reads the current state again"
	case "ServiceFailure", "InternalFailure", "ServiceUnavailable":
		h.Why = "AWS reported an internal failure: " + msg
		h.Fix = "re-run in a moment; if it persists check https://health.aws.amazon.com"
	case "OpenIdIdpCommunicationError":
		h.Why = "IAM could not connect to the OpenID Connect provider URL: " + msg
		h.Fix = "make sure https://<issuer>/.well-known/openid-configuration is reachable from the internet with a complete, correctly ordered TLS chain (run `gitlab-oidc doctor`)"
	case "UnmodifiableEntity":
		h.Why = "the role is protected (service-linked or managed by another service) and cannot be changed"
		h.Fix = "choose another role name"
	case "NotImplemented":
		h.Why = "the AWS endpoint does not implement " + op + " (emulators such as moto lack some IAM calls)"
		h.Fix = "run against real AWS, or unset AWS_ENDPOINT_URL"
	default:
		h.Why = msg
		if h.Why == "" {
			h.Why = "AWS returned " + code
		}
		h.Fix = "see the AWS error code " + code + " in the IAM documentation"
	}
	return h
}

// accessDenied explains an access-denied error, telling an explicit deny from
// an SCP or permissions boundary apart from a plain missing Allow, because the
// fix is different (a different person has to act).
func accessDenied(msg, perm, op string) (why, fix string) {
	why = "the AWS identity in use is not allowed to call " + perm
	if m := notAuthorized.FindStringSubmatch(msg); m != nil && m[2] != "" {
		why += " on " + m[2]
	}
	extra := tagPermission(op)
	grant := perm
	if extra != "" {
		grant += " (and " + extra + ", because setup tags what it creates)"
	}
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "service control policy"):
		why += "; a service control policy of your AWS Organization denies it"
		fix = "ask your AWS organization administrators to allow " + grant + " for this account, or use an account where it is allowed"
	case strings.Contains(lower, "permissions boundary"):
		why += "; a permissions boundary denies it"
		fix = "ask an administrator to allow " + grant + " in the permissions boundary of your identity"
	case strings.Contains(lower, "explicit deny"):
		why += "; an explicit Deny in one of your policies blocks it"
		fix = "ask an administrator to lift the Deny on " + grant
	default:
		fix = "grant " + grant + " to your identity, or use a profile that has it (--profile NAME / AWS_PROFILE)"
	}
	return why, fix
}

// requiredPermission names the IAM action that was denied: from the message
// when AWS says it, otherwise from the operation (IAM and STS action names
// equal their API operation names).
func requiredPermission(msg, service, op string) string {
	if m := notAuthorized.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if op == "" {
		return "the IAM permission for this call"
	}
	prefix := strings.ToLower(service)
	if prefix == "" {
		prefix = "iam"
	}
	return prefix + ":" + op
}

// tagPermission is the extra permission a create-with-tags call needs: IAM
// checks the Tag* action too when tags are passed on create.
func tagPermission(op string) string {
	switch op {
	case "CreateRole":
		return "iam:TagRole"
	case "CreateOpenIDConnectProvider":
		return "iam:TagOpenIDConnectProvider"
	}
	return ""
}

func limitExceeded(msg, op string) (why, fix string) {
	switch op {
	case "CreateOpenIDConnectProvider":
		return "the account already has the maximum of 100 IAM OIDC providers",
			"reuse an existing provider for this GitLab URL, or delete unused ones (`aws iam list-open-id-connect-providers`)"
	case "AddClientIDToOpenIDConnectProvider":
		return "the provider already has the maximum of 100 client IDs (audiences)",
			"reuse an audience that is already registered, or remove unused ones"
	case "CreateRole":
		return "the account's IAM role quota is reached: " + msg,
			"delete unused roles or ask for a quota increase in Service Quotas"
	}
	return "an IAM quota is reached: " + msg, "see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
}

// Explain wraps err as an *Error whose What names the action in the user's
// words ("create role \"deploy\""). Errors Classify does not know stay
// ordinary wrapped errors, so context cancellation and the like still read
// naturally and still match errors.Is.
func Explain(err error, action string) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	h := Classify(err)
	if h == nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	service, op := operation(err)
	e := &Error{Code: h.Code, Permission: h.Permission, What: action + " failed", Why: h.Why, Fix: h.Fix, Err: err}
	if op != "" {
		e.Op = service + "." + op
	}
	return e
}

// operation reads the service and operation names the SDK attaches to every
// error it returns.
func operation(err error) (service, op string) {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return oe.ServiceID, oe.OperationName
	}
	return "", ""
}

func callName(service, op string) string {
	switch {
	case op == "":
		return "the AWS call"
	case service == "":
		return op
	}
	return service + " " + op
}
