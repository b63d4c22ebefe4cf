package iamsim

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The helpers below build the errors the real client returns: the SDK's
// modelled exception types (whose ErrorCode is the IAM code, e.g.
// "NoSuchEntity") wrapped in a smithy.OperationError naming the call.
// Callers can match them with errors.As on smithy.APIError or on the type.

func opErr(op string, err error) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: op, Err: err}
}

func noSuchEntity(op, format string, args ...any) error {
	return opErr(op, &types.NoSuchEntityException{Message: aws.String(fmt.Sprintf(format, args...))})
}

func alreadyExists(op, format string, args ...any) error {
	return opErr(op, &types.EntityAlreadyExistsException{Message: aws.String(fmt.Sprintf(format, args...))})
}

func limitExceeded(op, format string, args ...any) error {
	return opErr(op, &types.LimitExceededException{Message: aws.String(fmt.Sprintf(format, args...))})
}

func invalidInput(op, format string, args ...any) error {
	return opErr(op, &types.InvalidInputException{Message: aws.String(fmt.Sprintf(format, args...))})
}

func malformed(op string, cause error) error {
	return opErr(op, &types.MalformedPolicyDocumentException{Message: aws.String("Syntax errors in policy. " + cause.Error())})
}

// validation is the generic error IAM's request validation returns (it has
// no modelled type in the SDK).
func validation(op, format string, args ...any) error {
	return opErr(op, &smithy.GenericAPIError{Code: "ValidationError", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient})
}
